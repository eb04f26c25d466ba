"""Swagger UI for the API, served entirely by the site (sidecar assets, no CDN) under the strict CSP.

The HTML and the init script are two responses (``SpectacularSwaggerSplitView``): the page loads
only same-origin scripts and stylesheets, so it needs neither ``'unsafe-inline'`` nor a nonce.
"""

from drf_spectacular.settings import spectacular_settings
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView


class SwaggerUIView(SpectacularSwaggerSplitView):
    url_name = "api-schema"
    template_name = "api/swagger_ui.html"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if "settings" in response.data:
            # No call to the public validator.swagger.io: connect-src is 'self' and the docs stay offline.
            response.data["settings"] = self._dump({**spectacular_settings.SWAGGER_UI_SETTINGS, "validatorUrl": None})
        return response


swagger_ui = SwaggerUIView.as_view()
