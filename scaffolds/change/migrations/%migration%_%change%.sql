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
<% if change.detach_trigger %>

-- However a <%= r.human | lower %> is deleted (its destroy, a record it belongs to destroyed, or by hand), its files
-- are detached; the app purges the blobs left unattached.
<%= change.detach_trigger %>
<% endif %>
<% for name in change.detached %>

-- The files of `<%= name %>` are detached; the app purges the blobs left unattached.
DELETE FROM attachments WHERE record_table = '<%= r.plural %>' AND name = '<%= name %>';
<% endfor %>
