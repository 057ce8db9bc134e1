from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from leadrefinery.api import api
from leadrefinery.common.views import favicon, healthz
from leadrefinery.metrics import metrics

urlpatterns = [
    path("", RedirectView.as_view(url="/leads/", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("f/", include("leadrefinery.intake.urls_public")),
    path("", include("leadrefinery.tracking.urls")),
    path("", include("leadrefinery.scoring.urls")),
    path("", include("leadrefinery.routing.urls_queue")),
    path("", include("leadrefinery.notifications.urls")),
    path("", include("leadrefinery.nurture.urls")),
    path("", include("leadrefinery.cadences.urls")),
    path("", include("leadrefinery.routing.urls")),
    path("", include("leadrefinery.dedupe.urls")),
    path("", include("leadrefinery.review.urls")),
    path("", include("leadrefinery.reports.urls")),
    path("", include("leadrefinery.privacy.urls")),
    path("", include("leadrefinery.intake.urls")),
    path("", include("leadrefinery.leads.urls")),
]

# A request while the database cannot be reached answers 503, not 500 (common/unavailable.py).
handler500 = "leadrefinery.common.unavailable.server_error"
