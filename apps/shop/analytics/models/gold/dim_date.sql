{{ config(materialized='table') }}
-- The calendar, role-played by every fact's date keys; -1 is the unknown date.
SELECT
  CAST(strftime(day, '%Y%m%d') AS INTEGER) AS date_key,
  CAST(day AS DATE) AS date,
  year(day) AS year,
  quarter(day) AS quarter,
  month(day) AS month,
  monthname(day) AS month_name,
  day(day) AS day_of_month,
  isodow(day) AS day_of_week,
  dayname(day) AS day_name,
  isodow(day) >= 6 AS is_weekend
FROM range(DATE '2020-01-01', DATE '2036-01-01', INTERVAL 1 DAY) AS calendar(day)
UNION ALL
SELECT -1, NULL, NULL, NULL, NULL, 'unknown', NULL, NULL, 'unknown', NULL
