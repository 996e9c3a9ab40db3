"""The combine-config catalog: reading, validating and listing governed workflow definitions."""
