{{ config(materialized='table') }}
-- Customers under their pseudonymous key, with the country they ship to; '-1' is the unknown one.
SELECT
  customer_key AS customer_sk,
  coalesce(country, 'unknown') AS country,
  registered_at,
  forgotten
FROM {{ ref('customers') }}
UNION ALL
SELECT '-1', 'unknown', NULL, false
