-- One version per rate cell and change of its values, as facts.rates keeps them:
-- the cell's key, the value columns compared, the observation's time as valid_from.
{% snapshot rates_snapshot %}
{{
    config(
        target_schema='dbt_anchor',
        unique_key=['property_code', 'rate_id', 'room_code', 'stay_date', 'adults', 'children', 'channel'],
        strategy='check',
        check_cols=['price', 'currency', 'closeout', 'min_stay', 'available'],
    )
}}
select * from public.dbt_day
{% endsnapshot %}
