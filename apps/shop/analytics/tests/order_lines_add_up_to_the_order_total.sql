-- Every order's lines add up to the total it was placed with: the fact holds the prices charged.
SELECT o.order_id, o.total_cents, sum(f.gross_amount_cents) AS lines_cents
FROM {{ ref('orders') }} o
JOIN {{ ref('fct_order_line') }} f USING (order_id)
GROUP BY o.order_id, o.total_cents
HAVING sum(f.gross_amount_cents) <> o.total_cents
