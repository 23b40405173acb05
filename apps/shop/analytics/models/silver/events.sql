{{ config(materialized='incremental', unique_key='event_id') }}
-- Every event of every service once, typed, with the reason it is held out of the models below
-- (reject_reason, null when it fits). Bronze keeps everything as it came; a change that does not
-- fit is shown on the dashboard and never stops the pipeline.
WITH arrived AS (
  SELECT
    after->>'event_id' AS event_id,
    source AS service,
    after->>'type' AS event_type,
    after->>'stream_id' AS stream_id,
    try_cast(after->>'stream_position' AS BIGINT) AS stream_position,
    try_cast(after->>'occurred_at' AS TIMESTAMPTZ) AS occurred_at,
    after->'data' AS data,
    ingest_seq
  FROM {{ source('bronze', 'changes') }}
  WHERE table_name = 'events' AND op IN ('c', 'r')
  {% if is_incremental() %}
    AND ingest_seq > (SELECT coalesce(max(ingest_seq), 0) FROM {{ this }})
  {% endif %}
  QUALIFY row_number() OVER (PARTITION BY after->>'event_id' ORDER BY ingest_seq) = 1
)
SELECT
  *,
  CASE
    WHEN event_id IS NULL THEN 'the change has no event_id'
    WHEN occurred_at IS NULL THEN 'occurred_at is not a timestamp'
    WHEN stream_position IS NULL THEN 'stream_position is not an integer'
    WHEN event_type = 'orders.OrderPlaced' THEN CASE
      WHEN data->>'orderId' IS NULL THEN 'orderId is missing'
      WHEN data->>'userId' IS NULL THEN 'userId is missing'
      WHEN try_cast(data->>'placedAt' AS TIMESTAMPTZ) IS NULL THEN 'placedAt is not a timestamp'
      WHEN try_cast(data->>'totalCents' AS BIGINT) IS NULL THEN 'totalCents is not an integer'
      WHEN coalesce(json_array_length(data->'items'), 0) = 0 THEN 'items is missing or empty'
      WHEN len(list_filter(CAST(data->'items' AS JSON[]), lambda item:
          item->>'productId' IS NULL
          OR coalesce(try_cast(item->>'quantity' AS INTEGER), 0) <= 0
          OR coalesce(try_cast(item->>'unitPriceCents' AS BIGINT), -1) < 0)) > 0
        THEN 'an item lacks productId, a positive quantity or a unit price'
    END
    WHEN event_type IN ('orders.OrderConfirmed', 'orders.OrderCancelled') THEN CASE
      WHEN data->>'orderId' IS NULL THEN 'orderId is missing'
    END
    WHEN event_type = 'catalog.ProductCreated' THEN CASE
      WHEN data->>'productId' IS NULL THEN 'productId is missing'
      WHEN data->>'name' IS NULL THEN 'name is missing'
      WHEN try_cast(data->>'priceCents' AS BIGINT) IS NULL THEN 'priceCents is not an integer'
    END
    WHEN event_type = 'catalog.ProductUpdated' THEN CASE
      WHEN data->>'productId' IS NULL THEN 'productId is missing'
      WHEN data->>'priceCents' IS NOT NULL AND try_cast(data->>'priceCents' AS BIGINT) IS NULL
        THEN 'priceCents is not an integer'
    END
    WHEN event_type IN ('payments.Charged', 'payments.Refunded') THEN CASE
      WHEN data->>'orderId' IS NULL THEN 'orderId is missing'
      WHEN try_cast(data->>'amountCents' AS BIGINT) IS NULL THEN 'amountCents is not an integer'
    END
    WHEN event_type IN ('users.UserRegistered', 'users.UserForgotten') THEN CASE
      WHEN data->>'userId' IS NULL THEN 'userId is missing'
    END
  END AS reject_reason
FROM arrived
