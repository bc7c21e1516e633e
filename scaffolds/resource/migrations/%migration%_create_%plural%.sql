-- Creates the table behind the <%= r.human %> resource. sqlx runs it at boot, once.
CREATE TABLE <%= r.plural %> (
    id <%= app.sql.id_column %>,
<% if r.optimistic %>
    client_id TEXT NOT NULL UNIQUE,
<% endif %>
<% for f in r.fields %>
    <%= f.sql_name %> <%= f.sql_type %><% if not f.optional %> NOT NULL<% endif %><% if f.unique %> UNIQUE<% endif %><% if f.references %> REFERENCES <%= f.references.plural %> (id) ON DELETE CASCADE<% endif %>,
<% endfor %>
    created_at <%= app.sql.timestamp %> NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at <%= app.sql.timestamp %> NOT NULL DEFAULT CURRENT_TIMESTAMP
);
<% for f in r.fields %>
<% if f.index and not f.unique %>

CREATE INDEX index_<%= r.plural %>_on_<%= f.name %> ON <%= r.plural %> (<%= f.index_columns %>);
<% endif %>
<% endfor %>
