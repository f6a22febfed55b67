"""The sections stories and trends add to the web pages, through the same queries the command
line uses: a post's story and its nearest posts (``newsarc similar``), and the matches per
month above search results (``newsarc trend``).

Each section is HTML made with ``markupsafe``: every value taken from a post is escaped, and
links to other posts are relative to the post page (``/-/newsarc/<db>/<id>``), so a section
needs no knowledge of the database's URL.
"""

from __future__ import annotations

from markupsafe import Markup

from newsarc.models import Post
from newsarc.queries import Filters, posts_by_ids, similar_posts, story_members
from newsarc.search import SearchResult
from newsarc.store import Store

from . import Section

#: nearest posts below the threshold shown under a post
NEAREST = 5
#: bars of the month chart at most (the latest months when there are more)
MAX_MONTHS = 36


def _post_link(post: Post, href: str) -> Markup:
    date = (post.date or "")[:10]
    where = post.source or post.category or ""
    return Markup('<a href="{}">{}</a> <span class="newsarc-meta">{}{}</span>').format(
        href, post.title or "(no title)", date, f" · {where}" if where else ""
    )


def story_section(store: Store, post: Post) -> Section | None:
    """The post's story: every post of it, oldest first (the first is the story's id), the
    post itself marked. None when the post is a story of its own."""
    members = story_members(store, post.id, text=False)
    if len(members) < 2:
        return None
    items = []
    for member in members:
        if member.id == post.id:
            items.append(Markup("<li><strong>{}</strong> (this post)</li>").format(member.title))
        else:
            items.append(Markup("<li>{}</li>").format(_post_link(member, str(member.id))))
    outlets = sorted({m.source for m in members if m.source})
    lead = Markup("<p>{} posts tell this story{}{}.</p>").format(
        len(members), " in " if outlets else "", ", ".join(outlets)
    )
    return Section(
        f"Story {members[0].id}: {len(members)} posts",
        lead + Markup('<ol class="newsarc-story">{}</ol>').format(Markup("").join(items)),
    )


def similar_section(store: Store, post: Post) -> Section | None:
    """The nearest posts of other stories (rewrites of one event, updates with other figures),
    with their similarity; None when there are none."""
    near = [s for s in similar_posts(store, post.id, nearest=NEAREST) if not s.same_story]
    if not near:
        return None
    posts = {p.id: p for p in posts_by_ids(store, [s.id for s in near], text=False)}
    items = [
        Markup('<li>{} <span class="newsarc-score">{:.2f}</span></li>').format(
            _post_link(posts[s.id], str(s.id)), s.score
        )
        for s in near
        if s.id in posts
    ]
    return Section(
        "Similar posts",
        Markup('<ol class="newsarc-similar">{}</ol>').format(Markup("").join(items)),
    )


def months_section(
    store: Store, query: str, filters: Filters, result: SearchResult
) -> Section | None:
    """The matching posts per month as a small bar chart (``newsarc trend QUERY --by month``):
    the same counts, empty months included. None without matches or dates."""
    from newsarc.trends import By, trend

    if not result.total:
        return None
    counted = trend(store, [query] if query.strip() else [], filters, by=By.month)
    if counted.empty or not counted.periods:
        return None
    periods = counted.periods[-MAX_MONTHS:]
    counts = counted.series[0].counts[-MAX_MONTHS:]
    peak = max(counts) or 1
    rows = [
        Markup(
            '<tr><th scope="row">{}</th><td class="newsarc-count">{:,}</td>'
            '<td class="newsarc-bar"><span style="width: {}%"></span></td></tr>'
        ).format(period.label, n, round(100 * n / peak))
        for period, n in zip(periods, counts, strict=True)
    ]
    cut = len(counted.periods) - len(periods)
    note = Markup("<p>{:,} earlier months not shown.</p>").format(cut) if cut else Markup("")
    return Section(
        "Matches per month",
        Markup('<table class="newsarc-months">{}</table>{}').format(Markup("").join(rows), note)
        + Markup('<p class="newsarc-meta">{}</p>').format(
            f"{counted.total:,} dated posts, as newsarc trend --by month counts them."
            if counted.undated == 0
            else f"{counted.total:,} dated posts ({counted.undated:,} undated not shown)."
        ),
    )


def register() -> None:
    """Add the sections to the pages (once)."""
    from . import POST_SECTIONS, SEARCH_SECTIONS

    for fn in (story_section, similar_section):
        if fn not in POST_SECTIONS:
            POST_SECTIONS.append(fn)
    if months_section not in SEARCH_SECTIONS:
        SEARCH_SECTIONS.append(months_section)
