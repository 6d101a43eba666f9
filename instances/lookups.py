"""`field__any=[…]`: a list of plain values (ids, vendor ids) as one array parameter on
PostgreSQL, where `__in` writes a placeholder per value. Sync filters by a page's thousand ids
several times a page, and building (then parsing) a thousand placeholders cost more than the
queries themselves. Elsewhere, and for anything but a list of values, it is `__in`."""

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignObject
from django.db.models.lookups import In


class Any(In):
    lookup_name = "any"

    def as_postgresql(self, compiler, connection):
        if not self.rhs_is_direct_value():
            return self.as_sql(compiler, connection)
        values = [value for value in self.rhs if value is not None]
        if not values:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*lhs_params, values)


Field.register_lookup(Any)
ForeignObject.register_lookup(Any)  # ids of related rows, as `parent_id__any`
