from django.contrib import admin
from django.urls import path

from dashboard import api, preferences, sign_in
from dashboard.views import (
    acting,
    alerts,
    exports,
    fleet,
    health,
    lineage,
    overview,
    people,
    products,
    runs,
    today,
    triage,
)

urlpatterns = [
    path("", overview.overview, name="overview"),
    path("charts/runs.svg", overview.runs_chart, name="runs_chart"),
    path("charts/durations.svg", overview.duration_chart, name="duration_chart"),
    path("today/", today.today, name="today"),
    path("timeline/", fleet.timeline, name="timeline"),
    path("failures/", triage.inbox, name="failures"),
    path("definitions/<int:backend_id>/", triage.definition, name="definition"),
    path("alerts/", alerts.alert_list, name="alerts"),
    path("alerts/<int:pk>/", alerts.alert_detail, name="alert_detail"),
    path("alerts/<int:pk>/action", alerts.alert_action, name="alert_action"),
    path("alerts/channels/", alerts.channels, name="alert_channels"),
    path("alerts/channels/new", alerts.edit_channel, name="alert_channel_new"),
    path("alerts/channels/<int:pk>/", alerts.edit_channel, name="alert_channel_edit"),
    path("alerts/rules/new", alerts.edit_rule, name="alert_rule_new"),
    path("alerts/rules/<int:pk>/", alerts.edit_rule, name="alert_rule_edit"),
    path("runs/", runs.runs_list, name="runs"),
    path("runs.csv", exports.runs_csv, name="runs_csv"),
    # OpenLineage's intake, where its HTTP transport posts (Marquez's path)
    path("api/v1/lineage", lineage.intake, name="lineage"),
    path("api/v1/lineage/batch", lineage.intake, name="lineage_batch"),
    path("api/v1/", api.urls()),  # its OpenAPI schema at api/v1/schema
    path("metrics", exports.metrics, name="metrics"),
    path("runs/<int:pk>/", runs.run_detail, name="run_detail"),
    path("runs/<int:pk>/log/", runs.run_log, name="run_log"),
    path("runs/<int:pk>/compare/", runs.run_compare, name="run_compare"),
    path("runs/<int:pk>/act/<str:move>/", acting.act, name="act"),
    path("runs/<int:pk>/log.txt", runs.run_log_download, name="run_log_download"),
    path("backends/", runs.backends, name="backends"),
    path("backends/<int:pk>/poll/", runs.poll_now, name="poll_now"),
    path("preferences/", preferences.save, name="preferences"),
    path("teams/", people.team_list, name="teams"),
    path("teams/<int:pk>/", people.team, name="team"),
    path("teams/<int:pk>/manage", people.manage_team, name="manage_team"),
    path("teams/<int:pk>/products", products.manage_products, name="manage_products"),
    path("teams/<int:pk>/actions/", acting.team_actions, name="team_actions"),
    path("invitations/<str:key>/", people.invitation, name="invitation"),
    path("people/<int:pk>/", people.person, name="person"),
    path("login/", sign_in.login, name="login"),
    path("logout/", sign_in.logout, name="logout"),
    path("login/company/", sign_in.sign_in, name="oidc_sign_in"),
    path("login/company/callback/", sign_in.callback, name="oidc_callback"),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
]

handler500 = "dashboard.views.health.server_error"  # 503 while the database is unreachable
