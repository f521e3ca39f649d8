"""Query expressions shared by the apps' `visible_to` methods and FilterSets."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Subquery


class AnyOf(models.Expression):
    """`column = ANY(ARRAY(subquery))`, a condition for filter() and Q. PostgreSQL computes the
    subquery once and can use the column's index (a BitmapOr across OR-ed conditions); `column IN
    (subquery)` OR-ed with other conditions is tested against every row of the table instead.
    Other databases (SQLite in development) get the plain `column IN (subquery)`."""

    conditional = True
    output_field = models.BooleanField()

    def __init__(self, column: str, queryset):
        super().__init__(output_field=models.BooleanField())
        self.column, self.subquery = F(column), Subquery(queryset)

    def get_source_expressions(self):
        return [self.column, self.subquery]

    def set_source_expressions(self, exprs):
        self.column, self.subquery = exprs

    def as_sql(self, compiler, connection):
        lhs, lhs_params = compiler.compile(self.column)
        rhs, rhs_params = compiler.compile(self.subquery)
        return f"{lhs} IN {rhs}", (*lhs_params, *rhs_params)

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = compiler.compile(self.column)
        rhs, rhs_params = compiler.compile(self.subquery)
        return f"{lhs} = ANY(ARRAY{rhs})", (*lhs_params, *rhs_params)
