{{ config(materialized='view') }}
-- Products ranked by the units of their confirmed orders placed over the last 7 days: rank 1 sold
-- the most, ties share a rank, and a product without such sales has no row. A view: the window
-- moves with the clock, not only with new orders. Reverse ETL pushes `sales_rank` to the catalog.
SELECT
  product_id,
  sum(quantity) AS units_7d,
  CAST(rank() OVER (ORDER BY sum(quantity) DESC) AS INTEGER) AS sales_rank
FROM {{ ref('fct_order_line') }}
WHERE order_status = 'CONFIRMED' AND placed_at >= now() - INTERVAL 7 DAY
GROUP BY product_id
