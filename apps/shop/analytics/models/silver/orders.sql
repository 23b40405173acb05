{{ config(materialized='incremental', unique_key='order_id', tags=['orders']) }}
-- One row per order, its current state. Each run recomputes the orders that new events touched
-- from all of their events, so the state is the same whatever the runs' cadence.
WITH touched AS (
  SELECT DISTINCT data->>'orderId' AS order_id
  FROM {{ ref('events') }}
  WHERE service = 'orders' AND reject_reason IS NULL
  {% if is_incremental() %}
    AND ingest_seq > (SELECT coalesce(max(last_ingest_seq), 0) FROM {{ this }})
  {% endif %}
),
order_events AS (
  SELECT e.*
  FROM {{ ref('events') }} e JOIN touched t ON e.data->>'orderId' = t.order_id
  WHERE e.service = 'orders' AND e.reject_reason IS NULL
)
SELECT
  data->>'orderId' AS order_id,
  -- Pseudonymous: the same user gives the same key everywhere, and the key names no one.
  sha256('causeway-customer:' || any_value(data->>'userId') FILTER (WHERE event_type = 'orders.OrderPlaced'))
    AS customer_key,
  CASE
    WHEN bool_or(event_type = 'orders.OrderConfirmed') THEN 'CONFIRMED'
    WHEN bool_or(event_type = 'orders.OrderCancelled') THEN 'CANCELLED'
    ELSE 'PENDING'
  END AS status,
  any_value(CAST(data->>'placedAt' AS TIMESTAMPTZ)) FILTER (WHERE event_type = 'orders.OrderPlaced') AS placed_at,
  max(occurred_at) FILTER (WHERE event_type IN ('orders.OrderConfirmed', 'orders.OrderCancelled')) AS closed_at,
  any_value(CAST(data->>'totalCents' AS BIGINT)) FILTER (WHERE event_type = 'orders.OrderPlaced') AS total_cents,
  any_value(data->>'currency') FILTER (WHERE event_type = 'orders.OrderPlaced') AS currency,
  any_value(data->>'shipToCountry') FILTER (WHERE event_type = 'orders.OrderPlaced') AS ship_to_country,
  max(ingest_seq) AS last_ingest_seq
FROM order_events
GROUP BY data->>'orderId'
-- An order whose OrderPlaced has not arrived yet waits for it.
HAVING bool_or(event_type = 'orders.OrderPlaced')
