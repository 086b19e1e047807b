from django.urls import path

from accounts import apis, oauth_demo

urlpatterns = [
    path("auth/signup/", apis.SignupApi.as_view(), name="signup"),
    path("auth/login/", apis.LoginApi.as_view(), name="login"),
    path("auth/logout/", apis.LogoutApi.as_view(), name="logout"),
    path("auth/refresh/", apis.RefreshApi.as_view(), name="refresh"),
    path("auth/validate/", apis.ValidateApi.as_view(), name="validate"),
    path("auth/validate_token", apis.LegacyValidateApi.as_view(), name="validate-token-legacy"),
    path("users/", apis.UserListApi.as_view(), name="users"),
    path("users/<id:user_id>/", apis.UserDetailApi.as_view(), name="user"),
    path("users/<id:user_id>/roles/", apis.UserRolesApi.as_view(), name="user-roles"),
    path("roles/", apis.RoleListApi.as_view(), name="roles"),
    path("oauth/", oauth_demo.OAuthDemoPage.as_view(), name="oauth-demo"),
    path("internal/staff-sessions/", apis.StaffSessionApi.as_view(), name="staff-sessions"),
    path("internal/sessions/<uuid:session_id>/", apis.SessionStateApi.as_view(), name="session"),
]
