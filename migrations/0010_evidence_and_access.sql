-- Contract revision 2: verdicts on developments (DESIGN §9), story
-- visibility and embargoes, and token scopes (DESIGN §10).

ALTER TABLE events DROP CONSTRAINT events_type_known;
ALTER TABLE events ADD CONSTRAINT events_type_known CHECK (type IN (
    'StoryOpened',
    'DevelopmentReported',
    'DevelopmentCorrected',
    'DevelopmentRetracted',
    'StoryStatusChanged',
    'DevelopmentVerificationChanged',
    'StoryVisibilityChanged'
)) NOT VALID;

-- When each development was reported (Development.reportedAt), and every
-- verdict given to it, oldest first: {status, note, version, recordedAt}.
ALTER TABLE story_developments
    ADD COLUMN reported_at   timestamptz,
    ADD COLUMN verifications jsonb NOT NULL DEFAULT '[]'::jsonb;
UPDATE story_developments d SET reported_at = e.recorded_at
FROM events e
WHERE e.story_id = d.story_id AND e.version = d.reported_in_version;
ALTER TABLE story_developments ALTER COLUMN reported_at SET NOT NULL;

-- The verdicts a report gives its development: one, when it names a
-- verification, else none. Inlined by the planner (a single SQL
-- expression), so the append statements pay no call.
CREATE FUNCTION storyline_reported_verdicts(payload jsonb, version int,
                                            recorded_at timestamptz)
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN payload ? 'verification'
        THEN jsonb_build_array(jsonb_build_object(
            'status', payload -> 'verification', 'note', NULL,
            'version', version, 'recordedAt', recorded_at))
        ELSE '[]'::jsonb END
$$;

-- The verdict a DevelopmentVerificationChanged event gives.
CREATE FUNCTION storyline_verdict(payload jsonb, version int, recorded_at timestamptz)
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_build_object('status', payload -> 'status', 'note', payload -> 'note',
                              'version', version, 'recordedAt', recorded_at)
$$;

-- Visibility as set; an embargo in the future makes the story INTERNAL
-- until it passes (storyline_is_public), so it lifts itself.
ALTER TABLE stories
    ADD COLUMN visibility    text NOT NULL DEFAULT 'PUBLIC'
        CHECK (visibility IN ('PUBLIC', 'INTERNAL')),
    ADD COLUMN embargo_until timestamptz;

-- Whether a story is readable without a token now. STABLE (it reads the
-- clock), inlined where it is used.
CREATE FUNCTION storyline_is_public(visibility text, embargo_until timestamptz)
RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT visibility = 'PUBLIC' AND (embargo_until IS NULL OR embargo_until <= now())
$$;

-- What a token may do: read (query, subscribe) or write (also append).
-- Tokens issued before scopes existed keep writing.
ALTER TABLE tokens
    ADD COLUMN scope text NOT NULL DEFAULT 'write' CHECK (scope IN ('read', 'write'));
