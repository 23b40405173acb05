-- SCD type 2: each product has exactly one current version.
SELECT product_id, count(*) AS current_versions
FROM {{ ref('dim_product') }}
WHERE is_current AND product_id <> 'unknown'
GROUP BY product_id
HAVING count(*) <> 1
