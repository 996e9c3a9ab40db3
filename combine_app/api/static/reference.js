// Point Swagger UI at the generated document. Requests tried out from the page ride on the
// signed-in session, so unsafe ones need the CSRF token the API asks of browser sessions.
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    requestInterceptor: function (request) {
      request.headers["X-CSRFToken"] = csrf;
      return request;
    },
  });
});
