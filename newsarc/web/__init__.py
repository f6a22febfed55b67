"""newsarc in the browser: a Datasette plugin with newsarc's exact search, and ``serve``.

Registered through the ``datasette`` entry point, so a plain ``datasette archive.db`` has it.
On every newsarc archive that Datasette opens it

- makes ``/<db>/posts?_search=Q`` (and its ``.json``/``.csv``) select exactly the posts that
  ``newsarc search Q`` finds: the query is compiled by newsarc's own query language into the
  selection of ``newsarc export --query`` (``filters_from_request``); ``_tag``, ``_since`` and
  ``_until`` are newsarc's filters, ``category=``/``source=`` Datasette's own exact ones;
- adds a search page ``/-/newsarc/<db>?q=Q`` ranked like the CLI, with highlighted snippets,
  and a readable post page ``/-/newsarc/<db>/<id>`` (``register_routes``);
- keeps the long columns (``raw``, ``text``, ``body``, ``meta``) from flooding table pages and
  links titles to the post page (``render_cell``);
- sets sensible table defaults: newest first, facets on category, source and tags
  (``get_metadata``).

Everything taken from a post is escaped (Jinja's autoescape, ``markupsafe.escape`` and
``export``'s HTML blocks); the only markup added around post text is ``<mark>``. Nothing here
writes to the archive.

Sections below a post (its story, similar posts) and above search results (matches per month)
come from ``sections`` through ``POST_SECTIONS`` and ``SEARCH_SECTIONS``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datasette import hookimpl
from datasette.utils import tilde_decode, tilde_encode
from datasette.utils.asgi import BadRequest, Response
from markupsafe import Markup, escape

from newsarc import export
from newsarc.errors import NewsarcError, StoreError
from newsarc.models import Post
from newsarc.queries import Filters, posts_by_ids, table_names
from newsarc.search import SearchResult, Term, compile_query, find_spans, search
from newsarc.store import Store

#: results per page of the search page
PAGE_SIZE = 20
#: characters of a long column shown in a table cell
CELL_CHARS = 120
LONG_COLUMNS = ("raw", "text", "body", "meta", "packed")
SORTS = {"rank": "relevance", "-date": "newest first", "date": "oldest first"}


# -- extension points ----------------------------------------------------------------------------


@dataclass
class Section:
    """An extra part of a page: a heading and already-escaped HTML (build it with ``escape``)."""

    title: str
    html: Markup


#: functions adding sections below a post (similar posts, the post's story):
#: ``fn(store, post) -> Section | None``, run in Datasette's database thread
POST_SECTIONS: list[Callable[[Store, Post], Section | None]] = []
#: functions adding sections above the search results (the matches per month as a chart):
#: ``fn(store, query, filters, result) -> Section | None``
SEARCH_SECTIONS: list[Callable[[Store, str, Filters, SearchResult], Section | None]] = []


# -- which databases are archives ----------------------------------------------------------------

_archives: dict[tuple[int, str], bool] = {}


def is_archive(datasette: Any, database: str) -> bool:
    """Whether a database Datasette serves is a newsarc archive (checked once per database)."""
    key = (id(datasette), database)
    if key not in _archives:
        db = datasette.databases.get(database)
        _archives[key] = bool(db is not None and db.path and _has_archive_tables(db.path))
    return _archives[key]


def _has_archive_tables(path: str) -> bool:
    try:
        conn = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True)
        try:
            names = table_names(conn)
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return {"posts", "posts_fts", "_migrations"} <= names


# -- requests → newsarc's query and filters ------------------------------------------------------


def request_filters(args: Any, names: dict[str, str]) -> Filters:
    """``Filters`` from request arguments; ``names`` maps each filter to its argument name.
    A bad date raises ``UsageError`` with the CLI's message."""
    from newsarc.dates import check_range, period_bound

    def value(name: str) -> str | None:
        key = names.get(name)
        text = (args.get(key) or "").strip() if key else ""
        return text or None

    since, until = value("since"), value("until")
    start = period_bound(since, end=False) if since else None
    end = period_bound(until, end=True) if until else None
    check_range(start, end)
    return Filters(
        category=value("category"), tag=value("tag"), source=value("source"),
        since=start, until=end,
    )  # fmt: skip


def _named(sql: str, params: list[Any], prefix: str) -> tuple[str, dict[str, Any]]:
    """Positional ``?`` parameters as named ones (Datasette's where clauses use names)."""
    pieces = sql.split("?")
    if len(pieces) != len(params) + 1:
        raise ValueError(f"cannot name the parameters of {sql!r}")
    out, named = [pieces[0]], {}
    for i, (value, piece) in enumerate(zip(params, pieces[1:], strict=True)):
        named[f"{prefix}{i}"] = value
        out.append(f":{prefix}{i}{piece}")
    return "".join(out), named


def _error(exc: NewsarcError) -> str:
    return f"newsarc: error: {exc}"


# -- hooks ---------------------------------------------------------------------------------------


@hookimpl
def prepare_connection(conn: sqlite3.Connection, database: str, datasette: Any) -> None:
    # an import beside the server holds the write lock for a moment at a time: wait for it
    # rather than fail a page (readers in WAL mode only wait during a checkpoint's reset)
    from newsarc.store import set_busy_timeout

    try:
        set_busy_timeout(conn)
    except (StoreError, sqlite3.Error):
        pass


@hookimpl(trylast=True)
def filters_from_request(request: Any, database: str, table: str, datasette: Any) -> Any:
    """``?_search=`` on ``posts`` with newsarc's query language; after Datasette's own hooks,
    so that its ``extra_context`` (the search box) is ours."""
    if table != "posts" or not is_archive(datasette, database):
        return None
    from datasette.filters import FilterArguments

    query = (request.args.get("_search") or "").strip()
    names = {"tag": "_tag", "since": "_since", "until": "_until"}
    try:
        filters = request_filters(request.args, names)
        selection = export.select(filters, query=query or None)
    except NewsarcError as exc:
        raise BadRequest(_error(exc)) from None
    descriptions = [f'newsarc search matches "{query}"'] if query else []
    descriptions += [f'{name} is "{request.args[key]}"' for name, key in names.items()
                     if request.args.get(key)]  # fmt: skip
    context = {"supports_search": True, "search": query}
    if not selection.where:
        return FilterArguments([], extra_context=context)
    where, params = _named(selection.where.removeprefix("WHERE "), selection.params, "newsarc_")
    return FilterArguments([where], params, descriptions, context)


@hookimpl
def render_cell(
    value: Any, column: str, table: str, database: str, datasette: Any, row: Any
) -> Any:
    if table != "posts" or not is_archive(datasette, database):
        return None
    if column in LONG_COLUMNS and isinstance(value, str) and len(value) > CELL_CHARS:
        return value[:CELL_CHARS] + "…"
    if column == "title" and isinstance(value, str):
        try:
            post_id = row["id"]
        except (IndexError, KeyError):
            return None
        href = post_url(datasette, database, post_id)
        return Markup('<a href="{}">{}</a>').format(href, value or "(no title)")
    return None


@hookimpl
def get_metadata(datasette: Any, key: str, database: str | None, table: str | None) -> Any:
    archives = [name for name in datasette.databases if is_archive(datasette, name)]
    return {
        "databases": {
            name: {
                "description_html": Markup(
                    'A newsarc archive: <a href="{}">search it with newsarc\'s exact search</a>'
                ).format(search_url(datasette, name)),
                "tables": {
                    "posts": {
                        "sort_desc": "date_utc",
                        "label_column": "title",
                        "facets": ["category", "source", {"array": "tags"}, {"month": "date"}],
                        "description_html": Markup(
                            '<a href="{}">Search the posts</a> (ranked, with highlights); '
                            "<code>?_search=</code> here uses the same query language"
                        ).format(search_url(datasette, name)),
                    },
                },
            }
            for name in archives
        }
    }


@hookimpl
def menu_links(datasette: Any, actor: Any, request: Any) -> Any:
    return [
        {"href": search_url(datasette, name), "label": f"Search {name} (newsarc)"}
        for name in datasette.databases
        if is_archive(datasette, name)
    ]


@hookimpl
def database_actions(datasette: Any, actor: Any, database: str, request: Any) -> Any:
    if is_archive(datasette, database):
        return [{"href": search_url(datasette, database), "label": "Search posts (newsarc)"}]
    return None


@hookimpl
def table_actions(datasette: Any, actor: Any, database: str, table: str, request: Any) -> Any:
    if table == "posts" and is_archive(datasette, database):
        return [{"href": search_url(datasette, database), "label": "Search posts (newsarc)"}]
    return None


@hookimpl
def register_facet_classes() -> Any:
    from newsarc.web.facets import MonthFacet

    return [MonthFacet]


@hookimpl
def register_routes() -> Any:
    return [
        (r"^/-/newsarc/(?P<database>[^/]+)$", search_page),
        (r"^/-/newsarc/(?P<database>[^/]+)/(?P<post_id>[0-9]+)$", post_page),
    ]


# -- pages ---------------------------------------------------------------------------------------


def search_url(datasette: Any, database: str) -> str:
    return str(datasette.urls.path(f"-/newsarc/{tilde_encode(database)}"))


def post_url(datasette: Any, database: str, post_id: int) -> str:
    return f"{search_url(datasette, database)}/{int(post_id)}"


async def _archive(datasette: Any, request: Any) -> tuple[str, Any]:
    database = tilde_decode(request.url_vars["database"])
    if database not in datasette.databases or not is_archive(datasette, database):
        raise _Missing(f"no newsarc archive named {database!r}")
    await datasette.ensure_permissions(
        request.actor,
        [("view-table", (database, "posts")), ("view-database", database), "view-instance"],
    )
    return database, datasette.get_database(database)


class _Missing(Exception):
    """A page of an archive or post that does not exist."""


async def _not_found(datasette: Any, request: Any, message: str) -> Response:
    # rendered here rather than raised: Datasette's exception handler prints a long traceback
    # for every error, which a mistyped post id does not deserve
    context = {"error": message, "status": 404, "title": None, "ok": False}
    html = await datasette.render_template("error.html", context, request=request)
    return Response.html(html, status=404)


def highlight(text: str, spans: list[tuple[int, int]]) -> Markup:
    """``text`` escaped, with each span marked: the only markup put around a post's text."""
    out, pos = [], 0
    for start, end in spans:
        out.append(escape(text[pos:start]))
        out.append(Markup("<mark>{}</mark>").format(text[start:end]))
        pos = end
    out.append(escape(text[pos:]))
    return Markup("").join(out)


def _title_terms(terms: list[Term]) -> list[Term]:
    """The terms that can match a title (``find_spans`` looks at untargeted ones)."""
    return [Term(t.text, t.folded) for t in terms if t.field in (None, "title")]


FORM_FILTERS = ("category", "tag", "source", "since", "until")


async def search_page(datasette: Any, request: Any) -> Response:
    """``/-/newsarc/<db>?q=…``: ranked results with highlighted snippets, as ``newsarc search``."""
    try:
        database, db = await _archive(datasette, request)
    except _Missing as exc:
        return await _not_found(datasette, request, str(exc))
    args = request.args
    query = (args.get("q") or "").strip()
    sort = args.get("sort") if args.get("sort") in SORTS else "rank"
    try:
        page = max(1, int(args.get("page") or 1))
    except ValueError:
        page = 1
    context: dict[str, Any] = {
        "database": database,
        "query": query,
        "sort": sort,
        "sorts": SORTS,
        "form": {name: args.get(name) or "" for name in FORM_FILTERS},
        "search_url": search_url(datasette, database),
        "error": None,
        "result": None,
        "sections": [],
    }
    status = 200
    if query:
        try:
            filters = request_filters(args, {name: name for name in FORM_FILTERS})
            terms = compile_query(query).terms
        except NewsarcError as exc:
            context["error"] = _error(exc)
            status = 400
        else:
            offset = (page - 1) * PAGE_SIZE

            def run(conn: sqlite3.Connection) -> tuple[SearchResult, list[Section]]:
                return _search(Store(conn, Path(db.path)), query, filters, sort, offset)

            result, context["sections"] = await db.execute_fn(run)
            title_terms = _title_terms(terms)
            context["result"] = result
            context["hits"] = [
                {
                    "url": post_url(datasette, database, hit.post.id),
                    "title": highlight(
                        hit.post.title or "(no title)", find_spans(hit.post.title, title_terms)
                    ),
                    "date": export.local_date(hit.post, "%Y-%m-%d %H:%M") or "",
                    "where": hit.post.source or hit.post.category or "",
                    "snippet": highlight(hit.snippet, hit.highlights),
                }
                for hit in result.hits
            ]
            context["pages"] = _pages(request, page, result.total)
            context["first"] = (page - 1) * PAGE_SIZE + 1
            context["last"] = (page - 1) * PAGE_SIZE + len(result.hits)
            context["table_url"] = _table_url(datasette, database, query, args)
    html = await datasette.render_template(
        "newsarc_search.html", context, request=request, view_name="newsarc_search"
    )
    return Response.html(html, status=status)


def _search(
    store: Store, query: str, filters: Filters, sort: Any, offset: int
) -> tuple[SearchResult, list[Section]]:
    result = search(store, query, filters, sort=sort, limit=PAGE_SIZE, offset=offset, text=False)
    extra = [fn(store, query, filters, result) for fn in SEARCH_SECTIONS]
    return result, [s for s in extra if s is not None]


def _pages(request: Any, page: int, total: int) -> dict[str, str | None]:
    """Links to the previous and next page, keeping every other argument."""
    from datasette.utils import path_with_replaced_args

    last = max(1, -(-total // PAGE_SIZE))

    def link(n: int) -> str | None:
        return path_with_replaced_args(request, {"page": str(n)}) if 1 <= n <= last else None

    return {"prev": link(page - 1), "next": link(page + 1), "page": str(page), "of": str(last)}


def _table_url(datasette: Any, database: str, query: str, args: Any) -> str:
    """The same search on Datasette's ``posts`` table (for facets, JSON and CSV)."""
    from urllib.parse import urlencode

    pairs = [("_search", query)]
    pairs += [(name, args[name]) for name in ("category", "source") if args.get(name)]
    pairs += [(f"_{name}", args[name]) for name in ("tag", "since", "until") if args.get(name)]
    return str(datasette.urls.table(database, "posts")) + "?" + urlencode(pairs)


async def post_page(datasette: Any, request: Any) -> Response:
    """``/-/newsarc/<db>/<id>``: one post, readable: metadata, then the body as blocks."""
    try:
        database, db = await _archive(datasette, request)
    except _Missing as exc:
        return await _not_found(datasette, request, str(exc))
    post_id = int(request.url_vars["post_id"])

    def run(conn: sqlite3.Connection) -> tuple[Post | None, list[Section]]:
        store = Store(conn, Path(db.path))
        posts = posts_by_ids(store, [post_id], full=True)
        if not posts:
            return None, []
        extra = [fn(store, posts[0]) for fn in POST_SECTIONS]
        return posts[0], [s for s in extra if s is not None]

    post, sections = await db.execute_fn(run)
    if post is None:
        return await _not_found(datasette, request, f"no post {post_id} in {database}")
    metadata = [
        (label, Markup(export.link_html(value)) if label == "url" else value)
        for label, value in export.metadata(post)
    ]
    context = {
        "database": database,
        "post": post,
        "metadata": metadata,
        "body": Markup(export.body_html(post)),
        "sections": sections,
        "search_url": search_url(datasette, database),
        "row_url": datasette.urls.row(database, "posts", str(post.id)),
    }
    html = await datasette.render_template(
        "newsarc_post.html", context, request=request, view_name="newsarc_post"
    )
    return Response.html(html)


# -- serve ---------------------------------------------------------------------------------------

#: Datasette settings for ``newsarc serve``
SETTINGS = {
    # a common term on a large archive, on a busy machine, can take more than Datasette's 1 s
    "sql_time_limit_ms": 3000,
    "truncate_cells_html": 200,
    "facet_time_limit_ms": 1000,
    # suggestions run a query per column on every table page: seconds on a large archive
    "suggest_facets": False,
    "default_page_size": 50,
}


def datasette_for(db_path: Path) -> Any:
    """A Datasette instance serving the archive read-only, with this plugin registered (also
    when newsarc is not installed with its entry point, e.g. from a source checkout)."""
    import sys

    from datasette.app import Datasette
    from datasette.plugins import pm

    with Store.open(db_path, create=False, readonly=True):
        pass  # a clear one-line error for a missing or foreign file; upgrades an old archive
    plugin = sys.modules[__name__]
    if not pm.is_registered(plugin):
        pm.register(plugin, name="newsarc")
    # Datasette prints a traceback with every local variable, through Rich when installed (and
    # newsarc brings Rich), for each 4xx page too: a mistyped query would fill the terminal
    import datasette.handle_exception

    datasette.handle_exception.rich = None  # type: ignore[attr-defined]
    return Datasette(
        [str(db_path)],
        settings=SETTINGS,
        metadata={"title": f"newsarc: {Path(db_path).name}"},
    )


def address(db_path: Path, host: str = "127.0.0.1", port: int = 8001) -> str:
    """The search page's URL once ``serve`` runs (Datasette names a database after its file)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/-/newsarc/{tilde_encode(Path(db_path).stem)}"


def serve(
    db_path: Path, host: str = "127.0.0.1", port: int = 8001, open_browser: bool = False
) -> None:
    """Serve the archive in the browser until interrupted. Datasette opens the file read-only
    (its connections use ``mode=ro``; no write is exposed), so imports may run beside it."""
    import asyncio
    import webbrowser

    import uvicorn

    ds = datasette_for(Path(db_path))
    asyncio.run(ds.invoke_startup())
    if open_browser:
        webbrowser.open(address(db_path, host, port))
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on", workers=1)


# the sections stories and trends add to the pages (after ``Section`` and the lists exist)
from . import sections as _sections  # noqa: E402

_sections.register()
