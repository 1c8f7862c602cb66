// Starts Swagger UI on this API's own /openapi.json. A file, not an inline script, so that the
// page's Content-Security-Policy allows scripts from 'self' only (ADR 0091).
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  layout: "BaseLayout",
  presets: [SwaggerUIBundle.presets.apis],
  showExtensions: true,
  // Never send the schema to the public validator (nothing leaves this origin).
  validatorUrl: null,
});
