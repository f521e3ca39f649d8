"""The only place the audit trail list is filtered."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEvent


class AuditEventFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    action = django_filters.CharFilter(lookup_expr="startswith", label=_("Action"))
    actor = django_filters.CharFilter(field_name="actor_repr", lookup_expr="iexact", label=_("User"))
    object_type = django_filters.CharFilter(label=_("Object type"))
    object_id = django_filters.CharFilter(label=_("Object id"))
    ip = django_filters.CharFilter(label=_("IP address"))
    since = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte", label=_("Since (UTC)"))
    until = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt", label=_("Until (UTC)"))

    class Meta:
        model = AuditEvent
        fields = ("q", "action", "actor", "object_type", "object_id", "ip", "since", "until")

    def search(self, qs, name, value):
        return qs.filter(Q(actor_repr__icontains=value) | Q(action__icontains=value) | Q(object_id=value))
