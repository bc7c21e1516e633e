-- Creates the table behind the <%= r.human %> resource. sqlx runs it at boot, once.
CREATE TABLE <%= r.plural %> (
    id <%= app.sql.id_column %>,
<% if r.optimistic %>
    client_id TEXT NOT NULL UNIQUE,
<% endif %>
<% if r.owned %>
    user_id <%= app.sql.reference %> NOT NULL REFERENCES users (id) ON DELETE CASCADE,
<% endif %>
<% for f in r.fields %>
    <%= f.sql_name %> <%= f.sql_type %><% if not f.optional %> NOT NULL<% endif %><% if f.unique %> UNIQUE<% endif %><% if f.references %> REFERENCES <%= f.references.plural %> (id) ON DELETE CASCADE<% endif %>,
<% endfor %>
    created_at <%= app.sql.timestamp %> NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at <%= app.sql.timestamp %> NOT NULL DEFAULT CURRENT_TIMESTAMP
);
<% if r.owned %>

-- A user's page of records is a range of this index, at any depth.
CREATE INDEX index_<%= r.plural %>_on_user_id ON <%= r.plural %> (user_id, id);
<% endif %>
<% for f in r.fields %>
<% if f.index and not f.unique %>

CREATE INDEX index_<%= r.plural %>_on_<%= f.name %> ON <%= r.plural %> (<%= f.index_columns %>);
<% endif %>
<% endfor %>
<% if r.detach_trigger %>

-- However a <%= r.human | lower %> is deleted (its destroy, a record it belongs to destroyed, or by hand), its files
-- are detached; the app purges the blobs left unattached.
<%= r.detach_trigger %>
<% endif %>
