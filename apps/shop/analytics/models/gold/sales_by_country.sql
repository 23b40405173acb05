{{ config(materialized='table') }}
-- Confirmed orders by country: orders, units and revenue (the unit prices charged).
SELECT
  ship_to_country AS key,
  count(DISTINCT order_id) AS orders,
  sum(quantity) AS units,
  sum(gross_amount_cents) AS revenue_cents
FROM {{ ref('fct_order_line') }}
WHERE order_status = 'CONFIRMED'
GROUP BY ALL
