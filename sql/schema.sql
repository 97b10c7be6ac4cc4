-- The schema CREATE EXTENSION builds: every table of the original design, in schema dwu_crm.
CREATE EXTENSION dwu_crm;
SELECT extversion, extrelocatable, extnamespace::regnamespace FROM pg_extension WHERE extname = 'dwu_crm';

SELECT c.relname, c.relkind
  FROM pg_class c JOIN pg_depend d ON d.objid = c.oid AND d.deptype = 'e'
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'dwu_crm') AND c.relkind IN ('r', 'v')
 ORDER BY c.relname;

-- Columns of the tables the worker and apps rely on (names of the original design, dwu_ prefix).
SELECT table_name, string_agg(column_name || ':' || data_type, ', ' ORDER BY ordinal_position)
  FROM information_schema.columns
 WHERE table_schema = 'dwu_crm'
   AND table_name IN ('crm_leads', 'crm_lead_sync', 'crm_sync_queue', 'crm_sync_logs', 'crm_auth_tokens', 'crm_settings')
 GROUP BY table_name ORDER BY table_name;

-- The indexes the worker's claim and the uniqueness rules need.
SELECT indexrelid::regclass AS index, indisunique AS unique, pg_get_expr(indpred, indrelid) AS predicate
  FROM pg_index
 WHERE indrelid IN ('dwu_crm.crm_sync_queue'::regclass, 'dwu_crm.crm_leads'::regclass, 'dwu_crm.crm_lead_sync'::regclass)
 ORDER BY indexrelid::regclass::text;

-- Every table is documented.
SELECT count(*) AS undocumented_tables
  FROM pg_class c
 WHERE c.relnamespace = 'dwu_crm'::regnamespace AND c.relkind = 'r' AND obj_description(c.oid, 'pg_class') IS NULL;

-- The extension's objects go away with it, and come back.
DROP EXTENSION dwu_crm;
SELECT count(*) AS leftover FROM pg_class WHERE relname LIKE 'crm\_%';
CREATE EXTENSION dwu_crm;
