import gc
import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
application = get_wsgi_application()
import_module(settings.ROOT_URLCONF)  # every view imported now, not on a first request
# What is loaded by now lives as long as the process: frozen, it is no longer walked by the
# collector's full passes, which otherwise stall a request every few dozen by 40 ms or more
# (bench.pages); forked workers also keep sharing its memory pages.
gc.freeze()
