from rest_framework import status

from shop_common.errors import ConflictError, ServiceError

INVALID_CREDENTIALS = "invalid_credentials"
EMAIL_TAKEN = "email_taken"
UNKNOWN_ROLES = "unknown_roles"
ROLE_EXISTS = "role_exists"


class InvalidCredentials(ServiceError):
    """The same answer for an unknown email, a wrong password and a deactivated account."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = INVALID_CREDENTIALS
    default_detail = "The email or password is wrong."
    auth_header = 'Bearer realm="shop"'


class EmailTaken(ConflictError):
    default_code = EMAIL_TAKEN
    default_detail = "An account with this email exists already."


class RoleExists(ConflictError):
    default_code = ROLE_EXISTS
    default_detail = "A role with this name exists already."


class UnknownRoles(ServiceError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = UNKNOWN_ROLES
    default_detail = "Some of the roles do not exist."
