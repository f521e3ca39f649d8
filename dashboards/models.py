"""What the dashboards have published: the basis of each figure, so later publications cannot be
differenced below k companies.

The table keeps the name it had when the model lived in `matching` (`Meta.db_table`)."""

from __future__ import annotations

from django.db import models


class PublishedFigure(models.Model):
    """The figures one dashboard cell of a region was last published from (its *basis*), and every
    number of companies it has been published with. `suppression.settle` replaces a basis only when
    the cell's companies differ by at least k from each earlier count, so two publications of a cell
    never differ by the data of fewer than k companies (docs/dashboards.md). Written by
    `dashboards.selectors` whenever it computes figures; never shown as such."""

    region = models.ForeignKey("companies.Region", on_delete=models.CASCADE, related_name="+")
    table = models.CharField(max_length=32)
    row = models.CharField(max_length=255)
    column = models.CharField(max_length=32)
    value = models.JSONField(null=True)  # an int or a float, as the cell had it
    companies = models.PositiveIntegerField()
    counts = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "matching_publishedfigure"
        ordering = ("region", "table", "row", "column")
        constraints = [
            models.UniqueConstraint(fields=("region", "table", "row", "column"), name="publishedfigure_unique_cell"),
        ]

    def __str__(self) -> str:
        return f"{self.table}/{self.row}/{self.column} of region {self.region_id}"
