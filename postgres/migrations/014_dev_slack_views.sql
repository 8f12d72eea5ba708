-- Dev mode's stand-in for Slack's views (issue 21): the forms (modals) the
-- bot would have opened and the App Home tabs it would have published,
-- shown at /dev/slack. One App Home per person, replaced on each publish.
CREATE TABLE dev_slack_views (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    view_id    text NOT NULL UNIQUE,
    kind       text NOT NULL CHECK (kind IN ('modal', 'home')),
    user_id    text NOT NULL DEFAULT '',
    view       jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz
);
CREATE UNIQUE INDEX dev_slack_views_home ON dev_slack_views (user_id) WHERE kind = 'home';

---- create above / drop below ----

DROP TABLE dev_slack_views;
