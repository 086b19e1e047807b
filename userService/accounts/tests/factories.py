import factory

from accounts import services
from accounts.models import Role, User

PASSWORD = "a-long-enough-passphrase-7"


class UserFactory(factory.django.DjangoModelFactory):
    """Users made through the service, so they get roles the way real ones do."""

    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@shop.test")
    password = PASSWORD
    roles = factory.LazyFunction(lambda: [Role.CUSTOMER])

    @classmethod
    def _create(cls, model_class: type[User], *args, **kwargs) -> User:
        return services.create_user(**kwargs)
