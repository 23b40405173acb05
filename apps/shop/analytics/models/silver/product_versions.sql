{{ config(materialized='incremental', unique_key=['product_id', 'version_no'], tags=['catalog']) }}
-- SCD type 2 from the catalog's events: one version per event, valid from its time to the next
-- one's. Derived from the log rather than by snapshotting current state, so a replay gives the
-- same versions however often the models ran live.
WITH touched AS (
  SELECT DISTINCT data->>'productId' AS product_id
  FROM {{ ref('events') }}
  WHERE service = 'catalog' AND reject_reason IS NULL
  {% if is_incremental() %}
    AND ingest_seq > (SELECT coalesce(max(last_ingest_seq), 0) FROM {{ this }})
  {% endif %}
),
product_events AS (
  SELECT e.*
  FROM {{ ref('events') }} e JOIN touched t ON e.data->>'productId' = t.product_id
  WHERE e.service = 'catalog' AND e.reject_reason IS NULL
)
SELECT
  data->>'productId' AS product_id,
  stream_position AS version_no,
  last_value(data->>'sku' IGNORE NULLS) OVER history AS sku,
  last_value(data->>'name' IGNORE NULLS) OVER history AS name,
  last_value(CAST(data->>'priceCents' AS BIGINT) IGNORE NULLS) OVER history AS list_price_cents,
  last_value(data->>'currency' IGNORE NULLS) OVER history AS currency,
  occurred_at AS valid_from,
  lead(occurred_at) OVER (PARTITION BY data->>'productId' ORDER BY stream_position) AS valid_to,
  max(ingest_seq) OVER (PARTITION BY data->>'productId') AS last_ingest_seq
FROM product_events
WINDOW history AS (
  PARTITION BY data->>'productId' ORDER BY stream_position
  ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
)
