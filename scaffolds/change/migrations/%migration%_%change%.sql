-- `<%= change.command %>`: sqlx runs it at boot, once, after the migrations before it.
<% for c in change.added %>
ALTER TABLE <%= r.plural %> ADD COLUMN <%= c.definition %>;
<% if c.index %>
<%= c.index %>;
<% endif %>
<% endfor %>
<% for c in change.dropped %>
<% if c.index %>
DROP INDEX <%= c.index %>;
<% endif %>
ALTER TABLE <%= r.plural %> DROP COLUMN <%= c.column %>;
<% endfor %>
