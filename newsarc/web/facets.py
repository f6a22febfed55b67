"""A Datasette facet of posts per month (``{"month": "date"}`` in a table's facets).

A month is ``YYYY-MM`` of the post's date as written, in its own time zone (as ``newsarc stats``
counts them). Choosing one adds newsarc's own ``_since``/``_until`` filters for that month, so
the selection is the one ``--since 2022-04 --until 2022-04`` makes.
"""

from __future__ import annotations

from typing import Any

from datasette.database import QueryInterrupted
from datasette.facets import Facet
from datasette.utils import escape_sqlite, path_with_added_args, path_with_removed_args

from newsarc.queries import month_facet_rows


class MonthFacet(Facet):  # type: ignore[misc]
    type = "month"

    async def facet_results(self) -> tuple[list[dict[str, Any]], list[str]]:
        results: list[dict[str, Any]] = []
        timed_out: list[str] = []
        args = self.request.args
        size = self.get_facet_size()
        for config in self.get_configs():
            column = config["config"].get("column") or config["config"]["simple"]
            col = escape_sqlite(column)
            # newest month first: a timeline reads better than months ranked by count
            try:
                rows = await month_facet_rows(
                    self.ds, self.database, self.sql, self.params, col, size + 1
                )
            except QueryInterrupted:
                timed_out.append(column)
                continue
            values = []
            for row in rows[:size]:
                month = row["value"]
                chosen = {"_since": month, "_until": month}
                selected = args.get("_since") == month and args.get("_until") == month
                path = (
                    path_with_removed_args(self.request, chosen)
                    if selected
                    else path_with_added_args(self.request, chosen)
                )
                values.append({
                    "value": month, "label": month, "count": row["count"], "selected": selected,
                    "toggle_url": self.ds.absolute_url(self.request, path),
                })  # fmt: skip
            results.append({
                "name": column, "type": self.type, "results": values,
                "hideable": config["source"] != "metadata",
                "toggle_url": path_with_removed_args(self.request, {"_facet_month": column}),
                "truncated": len(rows) > size,
            })  # fmt: skip
        return results, timed_out
