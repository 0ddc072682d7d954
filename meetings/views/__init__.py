"""Every web view of the meetings app, one module per area.

Thin function views. Access control starts from the query (`access`): another
team's object is a 404, and changing a meeting, series, template or action item
needs the right its model states (403 otherwise). Attendees may add talking
points and acknowledge the recap.

Every form works twice: as a plain POST that redirects with a flash message
(JavaScript off), and through htmx, which gets back only the part of the page
that changed (a `{% partialdef %}` of the same template) with its messages.

Modules: `pages` (home, list), `meeting` (create, edit, cancel, the meeting
page), `agenda`, `recap`, `discussion` (comments, settling items and meetings in
writing, shortening), `actions`, `series`, `templates`, `calendar` (feeds),
`compliance`, `email_links` (signed links from emails), plus `access`,
`rendering` and `discussion_context`, which the others share.
"""
