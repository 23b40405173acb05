{{ config(materialized='incremental', unique_key=['order_id', 'line_no'], tags=['orders']) }}
-- One row per line of an order as placed: the product, the quantity and the unit price charged
-- (copied at order time: a later price change never alters it).
SELECT
  e.data->>'orderId' AS order_id,
  CAST(line.line_no AS INTEGER) AS line_no,
  line.item->>'productId' AS product_id,
  CAST(line.item->>'quantity' AS INTEGER) AS quantity,
  CAST(line.item->>'unitPriceCents' AS BIGINT) AS unit_price_cents,
  CAST(e.data->>'placedAt' AS TIMESTAMPTZ) AS placed_at,
  e.ingest_seq
FROM {{ ref('events') }} e,
  unnest(CAST(e.data->'items' AS JSON[])) WITH ORDINALITY AS line(item, line_no)
WHERE e.event_type = 'orders.OrderPlaced' AND e.reject_reason IS NULL
{% if is_incremental() %}
  AND e.ingest_seq > (SELECT coalesce(max(ingest_seq), 0) FROM {{ this }})
{% endif %}
