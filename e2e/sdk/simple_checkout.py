"""A merchant's server on the simple checkout API, in the style of the
shape's PHP example: one JSON call with the site's base URL, then the
customer is sent to payment_url; back on success_url, the transaction_id
is looked up before the order is marked paid.

KASSE_BASE and SECRET_KEY say where and as whom; commands:
  checkout SHOP BASE_URL AMOUNT   the call, printed as JSON
  lookup TRANSACTION_ID           the payment, printed as JSON
"""

import json
import os
import sys
import urllib.error
import urllib.request

base = os.environ["KASSE_BASE"].rstrip("/")
headers = {
    "Authorization": "Bearer " + os.environ["SECRET_KEY"],
    "Content-Type": "application/json",
}


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        # Errors come back as {"status": "error", "message": ...}.
        return dict(json.load(error), http_status=error.code)


command, args = sys.argv[1], sys.argv[2:]
if command == "checkout":
    shop, base_url, amount = args
    answer = call(
        "POST",
        "/api/v1/checkout",
        {
            "amount": float(amount) if "." in amount else int(amount),
            "client_base_url": base_url,
            "customer_name": "John Doe",
            "customer_email": "john.doe@example.com",
            "success_url": shop + "/order/success.php",
            "cancel_url": shop + "/cart.php",
            "meta_data": json.dumps({"order_id": "YOUR_UNIQUE_ORDER_ID_123"}),
        },
    )
elif command == "lookup":
    answer = call("GET", "/api/v1/transactions/" + args[0])
else:
    sys.exit("unknown command " + command)
print(json.dumps(answer, ensure_ascii=False))
