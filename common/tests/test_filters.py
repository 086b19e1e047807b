"""shop_common.filters.apply_filters: a list's query-string filters, and when it can skip them."""

import django_filters
import pytest
from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from shop_common.filters import apply_filters


class UserFilter(django_filters.FilterSet):
    username = django_filters.CharFilter()
    pk = django_filters.NumberFilter(field_name="id")
    id = django_filters.RangeFilter()  # read from two parameters: id_min, id_max

    class Meta:
        model = User
        fields = ["username", "pk", "id"]


class NamedUserFilter(django_filters.FilterSet):
    username = django_filters.CharFilter(required=True)

    class Meta:
        model = User
        fields = ["username"]


def test_without_a_filter_parameter_the_queryset_is_answered_as_it_is():
    users = User.objects.all()

    assert apply_filters(UserFilter, {}, users) is users
    assert apply_filters(UserFilter, {"nocache": "1", "page_size": "5"}, users) is users


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"pk": "one"}, "pk"),
        ({"nocache": "1", "pk": "one"}, "pk"),
        ({"id_min": "many"}, "id"),  # a range's parameters are the filter's name with a suffix
    ],
)
def test_a_value_the_filterset_cannot_read_is_still_refused(params, named):
    with pytest.raises(ValidationError) as refused:
        apply_filters(UserFilter, params, User.objects.all())

    assert set(refused.value.error_dict) == {named}


class RefusingForm(forms.Form):
    def clean(self):
        raise forms.ValidationError("refused")


class FormCheckedUserFilter(django_filters.FilterSet):
    class Meta:
        model = User
        fields = ["username"]
        form = RefusingForm


class OwnWayUserFilter(django_filters.FilterSet):
    class Meta:
        model = User
        fields = ["username"]

    def filter_queryset(self, queryset):
        return queryset.none()


def test_a_filterset_with_a_form_or_filtering_of_its_own_sees_every_request():
    users = User.objects.all()

    with pytest.raises(ValidationError):
        apply_filters(FormCheckedUserFilter, {"nocache": "1"}, users)
    assert apply_filters(OwnWayUserFilter, {"nocache": "1"}, users) is not users


def test_a_required_filter_is_refused_when_absent():
    with pytest.raises(ValidationError) as refused:
        apply_filters(NamedUserFilter, {"nocache": "1"}, User.objects.all())

    assert set(refused.value.error_dict) == {"username"}


@pytest.mark.django_db
def test_filter_parameters_still_narrow_the_list():
    ann, bob, cid = (User.objects.create(username=name) for name in ("ann", "bob", "cid"))
    users = User.objects.order_by("id")

    assert list(apply_filters(UserFilter, {"username": "bob", "x": "1"}, users)) == [bob]
    assert list(apply_filters(UserFilter, {"id_min": str(bob.id)}, users)) == [bob, cid]
    assert list(apply_filters(UserFilter, {"id_max": str(ann.id)}, users)) == [ann]
