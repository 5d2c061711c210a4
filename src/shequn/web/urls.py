"""The operator web app. Every page under ``c/<slug>/`` belongs to one community and goes
through ``shequn.web.access.community_view``."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from shequn.web.views import account, activities_urls, home, progress

app_name = "web"

community_patterns = [
    path("", home.overview, name="community"),
    path("members/", include("shequn.web.members.urls")),
    path("tiers/", include("shequn.web.tiers.urls")),
    path("points/", include("shequn.web.points.urls")),
    path("activities/", include(activities_urls.community_urlpatterns)),
    path("diagnosis/", include("shequn.web.diagnosis.urls")),
    path("culture/", include("shequn.web.culture.urls")),
    path("charter/", include("shequn.web.charter.urls")),
    path("exchange/", include("shequn.web.exchange.urls")),
    path("commerce/", include("shequn.web.commerce.urls")),
    path("imports/", include("shequn.web.imports.urls")),
    path("manage/", include("shequn.web.manage.urls")),
]

urlpatterns = [
    path("", home.home, name="home"),
    path("communities/new/", home.community_create, name="community_create"),
    path(
        "account/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("account/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/password/", account.PasswordChangeView.as_view(), name="password_change"),
    path("account/tokens/", account.tokens, name="tokens"),
    path("account/tokens/<int:token_id>/revoke/", account.token_revoke, name="token_revoke"),
    path("invitations/<str:token>/", account.invitation, name="invitation"),
    path("p/<str:token>/", progress.member_progress_page, name="member_progress"),
    *activities_urls.public_urlpatterns,
    path("", include("shequn.web.culture.public_urls")),
    path("", include("shequn.web.exchange.public_urls")),
    path("c/<slug:slug>/", include(community_patterns)),
]
