/* legend.c — see legend.h. Keep each text true to docs/metrics.md. */
#include "query/legend.h"

#include <string.h>

#define DOC "docs/metrics.md#"
#define TICKETS "docs/tickets.md#"

const struct legend_entry legend_entries[] = {
    { "title", "Title",
      "The article's title as its latest view sent it.", DOC "views" },
    { "path", "Path",
      "The page's path; every distinct path is one article.", DOC "views" },
    { "category", "Category",
      "The category the page declares, as its latest view sent it.",
      DOC "views" },
    { "views", "Views",
      "Page views: every page load or single-page-app navigation counts "
      "once, also when the reader leaves at once. Bots are left out.",
      DOC "views" },
    { "views_change", "Change",
      "Views against the previous period, the same number of days just "
      "before this range: (views − previous) ÷ previous. \"new\" when the "
      "previous period had none.", DOC "change-against-the-previous-period" },
    { "visitors", "Visitors",
      "Distinct readers per day (a hash of address and browser that changes "
      "every day), added up over the days: a reader who comes back another "
      "day counts again.", DOC "visitors" },
    { "reads", "Reads",
      "Views with at least 10 s of engaged time that also scrolled past what "
      "showed at load, or reached the end (a page that fits the screen needs "
      "the 10 s only).", DOC "reads-and-read-rate" },
    { "read_rate", "Read rate",
      "Reads ÷ views: the share of views that became reads.",
      DOC "reads-and-read-rate" },
    { "read_through", "Read-through",
      "The share of views that scrolled to 90 % of the page or further.",
      DOC "read-through" },
    { "quick_exits", "Quick exits",
      "The share of views with under 5 s of engaged time, views that never "
      "reported any included.", DOC "quick-exits" },
    { "engaged_p50", "Median engaged time",
      "Half the views were engaged less than this, half longer. Engaged time "
      "counts while the page is visible and focused and the reader did "
      "something in the last 30 s.", DOC "quantiles-median-p75-p90" },
    { "engaged_p75", "p75",
      "Engaged time that three views in four stayed under; the longest "
      "quarter read longer.", DOC "quantiles-median-p75-p90" },
    { "engaged_p90", "p90",
      "Engaged time that nine views in ten stayed under; the longest tenth "
      "read longer.", DOC "quantiles-median-p75-p90" },
    { "engaged_mean", "Mean engaged time",
      "All engaged time ÷ views. A few very long views pull it up: read the "
      "median.", DOC "engaged-time" },
    { "read_ratio", "Read ratio",
      "Median engaged time ÷ the time the text needs at 230 words a minute. "
      "Near 1×: read in full; far below: skimmed or left.", DOC "read-ratio" },
    { "helpful", "Helpful",
      "Up votes ÷ all votes; every view's latest vote counts once.",
      DOC "helpful-rate" },
    { "votes", "Votes",
      "Up and down votes, at most one per view.", DOC "helpful-rate" },
    { "words", "Words",
      "The article's word count, as its latest view sent it.",
      DOC "read-ratio" },
    { "searches", "Searches",
      "Searches readers made with the help center's search, on pages dwell "
      "saw a view of, counted on the day of that view.", DOC "searches" },
    { "today", "Today so far",
      "Today's numbers (UTC day) up to now. Today is not over, so the "
      "presets and default ranges end yesterday and compare full days.",
      DOC "full-days-and-today-so-far" },
    { "needs_attention", "Needs attention",
      "Articles with at least the mean views where few find them helpful, "
      "they are read far shorter than their length, or most readers leave "
      "within 5 s; most views first.", DOC "needs-attention" },
    { "top_searches", "Top searches",
      "The most frequent search queries of the range, and how many of them "
      "found nothing.", DOC "searches" },
    { "zero_searches", "Searches with no results",
      "Queries whose search reported 0 results: content readers looked for "
      "and did not find.", DOC "searches" },
    { "tickets", "Tickets",
      "Tickets created in the range, from the help desk's import or "
      "webhook; the line below counts their distinct requesters.",
      TICKETS "site-numbers" },
    { "linked_tickets", "Linked to a reader",
      "Tickets dwell can tie to a reader's visit, through the contact "
      "link's id or an identified reader. Only these can show what was read "
      "before a ticket.", TICKETS "linking-readers-to-tickets" },
    { "after_reading", "After reading",
      "Tickets whose reader viewed an article in the window before the "
      "ticket, of all tickets: a lower bound, since an unlinked ticket "
      "counts as no read.", TICKETS "site-numbers" },
    { "self_service_score", "Self-service score",
      "Visitors ÷ ticket requesters in the range: how many help-center "
      "visits there are for each person who still wrote in.",
      TICKETS "site-numbers" },
    { "tickets_per_1000_views", "Tickets per 1,000 views",
      "1,000 × tickets ÷ views of the whole help center in the range.",
      TICKETS "site-numbers" },
    { "contact_rate", "Contacted support",
      "At least this share of the article's views was followed by a linked "
      "ticket from the same reader within the window. A lower bound: "
      "tickets nobody can tie to a reader are not counted; the line above "
      "the table gives the share of tickets that are.",
      TICKETS "per-article-contact-after-read" },
    { "followed_by_ticket", "Tickets after",
      "Views of the article followed by a linked ticket from the same "
      "reader within the window.", TICKETS "per-article-contact-after-read" },
    { "read_to_ticket", "Median read → ticket",
      "The median time from such a view to the ticket that followed it.",
      TICKETS "per-article-contact-after-read" },
    { "topics", "Topics",
      "Per category, whether days with more reads are followed by fewer (or "
      "more) tickets on its tags 0–14 days later: the strongest lag, its "
      "correlation r and 95 % interval.", TICKETS "topics-reads-and-tickets-over-time" },
    { "ticket_reads", "Reads before one ticket",
      "The articles a linked ticket's reader viewed in the window before "
      "that ticket, oldest first. An unlinked ticket shows none.",
      TICKETS "one-tickets-reads" },
    { "gaps", "Searches before a ticket",
      "Queries a linked ticket's reader searched in the window before the "
      "ticket, most tickets first: what readers looked for and did not "
      "find well enough.", TICKETS "gaps-searches-followed-by-a-ticket" },
};

const size_t legend_count = sizeof legend_entries / sizeof legend_entries[0];

const struct legend_entry *legend_find(const char *key)
{
    for (size_t i = 0; i < legend_count; i++)
        if (strcmp(legend_entries[i].key, key) == 0)
            return &legend_entries[i];
    return NULL;
}
