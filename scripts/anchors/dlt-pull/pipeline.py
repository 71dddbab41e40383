"""The pull's anchor: the same cursor feed (GET {base}/inventory?limit&cursor with a bearer
token, answering {results, next_cursor}) read by a dlt pipeline the way its documentation
builds a REST source (RESTClient with a JSON cursor paginator), loaded into PostgreSQL with
the csv loader, append only, no transformation. Prints one JSON line: records, seconds.

    python pipeline.py BASE_URL TOKEN DSN PAGE_SIZE
"""
import json
import sys
import time

import dlt
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator

base, token, dsn, page_size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])


@dlt.resource(name="inventory", write_disposition="append")
def inventory():
    client = RESTClient(
        base_url=base,
        auth=BearerTokenAuth(token),
        paginator=JSONResponseCursorPaginator(cursor_path="next_cursor", cursor_param="cursor"),
        data_selector="results",
    )
    yield from client.paginate("/inventory", params={"limit": page_size})


pipeline = dlt.pipeline(
    pipeline_name="bench_pull_anchor",
    pipelines_dir=sys.argv[5] if len(sys.argv) > 5 else None,
    destination=dlt.destinations.postgres(credentials=dsn),
    dataset_name="dlt_anchor",
)
start = time.time()
info = pipeline.run(inventory(), loader_file_format="csv")
seconds = time.time() - start
with pipeline.sql_client() as client:
    records = client.execute_sql("select count(*) from dlt_anchor.inventory")[0][0]
print(json.dumps({"records": records, "seconds": round(seconds, 3), "dlt": dlt.__version__}))
