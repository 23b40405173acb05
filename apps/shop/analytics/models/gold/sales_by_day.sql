{{ config(materialized='table') }}
-- Confirmed orders by day: orders, units and revenue (the unit prices charged).
SELECT
  strftime(placed_at AT TIME ZONE 'UTC', '%Y-%m-%d') AS key,
  count(DISTINCT order_id) AS orders,
  sum(quantity) AS units,
  sum(gross_amount_cents) AS revenue_cents
FROM {{ ref('fct_order_line') }}
WHERE order_status = 'CONFIRMED'
GROUP BY ALL
