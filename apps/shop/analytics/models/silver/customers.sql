{{ config(materialized='incremental', unique_key='customer_key', tags=['users', 'orders']) }}
-- One row per customer under a pseudonymous key: no name, no email, no user id. The country is
-- the ship-to country of the customer's latest order that gave one.
WITH touched AS (
  SELECT DISTINCT sha256('causeway-customer:' || (data->>'userId')) AS customer_key
  FROM {{ ref('events') }}
  WHERE event_type IN ('users.UserRegistered', 'users.UserForgotten', 'orders.OrderPlaced')
    AND reject_reason IS NULL
  {% if is_incremental() %}
    AND ingest_seq > (SELECT coalesce(max(last_ingest_seq), 0) FROM {{ this }})
  {% endif %}
),
customer_events AS (
  SELECT sha256('causeway-customer:' || (e.data->>'userId')) AS customer_key, e.*
  FROM {{ ref('events') }} e
  WHERE e.event_type IN ('users.UserRegistered', 'users.UserForgotten', 'orders.OrderPlaced')
    AND e.reject_reason IS NULL
)
SELECT
  c.customer_key,
  min(c.occurred_at) FILTER (WHERE c.event_type = 'users.UserRegistered') AS registered_at,
  -- Ties on the instant broken by arrival: an incremental run and a full recompute pick the same.
  arg_max(c.data->>'shipToCountry', (c.occurred_at, c.ingest_seq)) FILTER (WHERE c.data->>'shipToCountry' IS NOT NULL) AS country,
  bool_or(c.event_type = 'users.UserForgotten') AS forgotten,
  max(c.ingest_seq) AS last_ingest_seq
FROM customer_events c JOIN touched t USING (customer_key)
GROUP BY c.customer_key
