-- Permissions boundaries: the managed policy (customer or AWS managed) that sets the most a
-- user or a role may be allowed. NULL: no boundary. No cascade: a policy in use as a boundary
-- cannot be deleted (DeleteConflict), as AWS refuses it.

ALTER TABLE users ADD COLUMN permissions_boundary TEXT REFERENCES policies (id);
ALTER TABLE roles ADD COLUMN permissions_boundary TEXT REFERENCES policies (id);

CREATE INDEX users_by_boundary ON users (permissions_boundary)
    WHERE permissions_boundary IS NOT NULL;
CREATE INDEX roles_by_boundary ON roles (permissions_boundary)
    WHERE permissions_boundary IS NOT NULL;
