import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadrefinery.settings")
application = get_wsgi_application()

# SQLite: checkpoint the WAL in the background, not in the commit of some request.
from leadrefinery.common import checkpoint  # noqa: E402

checkpoint.start()
