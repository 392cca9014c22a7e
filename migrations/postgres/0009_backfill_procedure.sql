-- The lifecycle backfill's chunk loop for one tenant, run inside the database
-- (one call per tenant instead of several statements per chunk). Each chunk
-- is its own transaction, committed with synchronous_commit off like the
-- loop it replaces, and begins by checking, under a key-share lock on the
-- job's row, that the job is still running under this lease: a worker that
-- lost its lease (or whose process died while its call runs on) stops at the
-- next chunk, and a worker taking the job over cannot claim it while a chunk
-- is under way (its claim skips locked rows; the heartbeat's renewal does not
-- wait for the lock). A run completed meanwhile (cancelled) rolls the chunk back.
-- `updated` is the items this call updated; `stopped` says it stopped early.
CREATE PROCEDURE backfill_findings_lifecycle_tenant(
    p_run_id bigint, p_tenant_id bigint, p_job_id bigint, p_owner text, p_chunk_size bigint,
    INOUT updated bigint DEFAULT 0, INOUT stopped boolean DEFAULT false)
LANGUAGE plpgsql AS $$
DECLARE
    cursor_id bigint := 0;
    last_id bigint;
    chunk bigint;
    n bigint;
BEGIN
    updated := 0;
    stopped := false;
    LOOP
        PERFORM set_config('synchronous_commit', 'off', true);
        PERFORM 1 FROM jobs WHERE id = p_job_id AND lease_owner = p_owner AND status = 'running'
            FOR KEY SHARE;
        IF NOT FOUND THEN
            stopped := true;
            ROLLBACK;
            RETURN;
        END IF;
        SELECT max(id), count(*) INTO last_id, chunk FROM (
            SELECT id FROM findings
            WHERE tenant_id = p_tenant_id AND lifecycle_version IS NULL AND id > cursor_id
            ORDER BY id LIMIT p_chunk_size) AS c;
        IF last_id IS NULL THEN
            ROLLBACK;
            RETURN;
        END IF;
        UPDATE findings SET
            status = CASE legacy_state WHEN 'open' THEN 'new' WHEN 'closed' THEN 'resolved'
                ELSE 'risk_accepted' END,
            (first_seen_at, last_seen_at, times_seen, sla_due_at) = (
                SELECT COALESCE(min(o.observed_at), findings.created_at),
                       COALESCE(max(o.observed_at), findings.updated_at),
                       GREATEST(count(*), 1),
                       COALESCE(min(o.observed_at), findings.created_at) + CASE findings.severity
                           WHEN 'critical' THEN interval '7 days' WHEN 'high' THEN interval '30 days'
                           WHEN 'medium' THEN interval '90 days' ELSE interval '180 days' END
                FROM finding_observations o WHERE o.finding_id = findings.id),
            resolved_at = CASE WHEN legacy_state = 'closed' THEN COALESCE(closed_at, updated_at) END,
            lifecycle_version = 1
        WHERE tenant_id = p_tenant_id AND id > cursor_id AND id <= last_id
          AND lifecycle_version IS NULL
          AND legacy_state IN ('open', 'closed', 'ignored')
          AND severity IN ('critical', 'high', 'medium', 'low');
        GET DIAGNOSTICS n = ROW_COUNT;
        UPDATE operation_run_tenants SET items_updated = items_updated + n
            WHERE run_id = p_run_id AND tenant_id = p_tenant_id AND state IN ('queued', 'running');
        UPDATE operation_runs SET items_updated = items_updated + n
            WHERE id = p_run_id AND status <> 'completed';
        IF NOT FOUND THEN
            stopped := true;
            ROLLBACK;
            RETURN;
        END IF;
        COMMIT;
        updated := updated + n;
        cursor_id := last_id;
        EXIT WHEN chunk < p_chunk_size;
    END LOOP;
END
$$;
