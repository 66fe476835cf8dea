"""The official SSLCOMMERZ Python SDK (sslcommerz-lib), unmodified, pointed
at Kasse as SSLCOMMERZ.md section 11 says: only its three URLs change.

One SDK call per run; the answer is printed as JSON for the test to read.
KASSE_BASE, STORE_ID and STORE_PASS say where and as whom.
"""

import json
import os
import sys
from urllib.parse import parse_qsl

from sslcommerz_lib import SSLCOMMERZ

base = os.environ["KASSE_BASE"].rstrip("/")
sdk = SSLCOMMERZ(
    {"store_id": os.environ["STORE_ID"], "store_pass": os.environ["STORE_PASS"], "issandbox": True}
)
sdk.createSessionUrl = base + "/gwprocess/v4/api.php"
sdk.validation_url = base + "/validator/api/validationserverAPI.php"
sdk.transaction_url = base + "/validator/api/merchantTransIDvalidationAPI.php"

command, args = sys.argv[1], sys.argv[2:]
if command == "create":
    shop, tran_id, amount = args
    answer = sdk.createSession(
        {
            # The SDK's own README example, with the shop's URLs.
            "total_amount": amount,
            "currency": "BDT",
            "tran_id": tran_id,
            "success_url": shop + "/success",
            "fail_url": shop + "/fail",
            "cancel_url": shop + "/cancel",
            "ipn_url": shop + "/ipn",
            "emi_option": 0,
            "cus_name": "test",
            "cus_email": "test@test.com",
            "cus_phone": "01700000000",
            "cus_add1": "customer address",
            "cus_city": "Dhaka",
            "cus_country": "Bangladesh",
            "shipping_method": "NO",
            "multi_card_name": "",
            "num_of_item": 1,
            "product_name": "Test",
            "product_category": "Test Category",
            "product_profile": "general",
            "value_a": "order note, with spaces",
        }
    )
elif command == "hash_validate_ipn":
    # The form body on stdin, parsed so that empty fields stay (section 11).
    answer = sdk.hash_validate_ipn(dict(parse_qsl(sys.stdin.read(), keep_blank_values=True)))
elif command == "validate":
    answer = sdk.validationTransactionOrder(args[0])
elif command == "query_session":
    answer = sdk.transaction_query_session(args[0])
elif command == "query_tran_id":
    answer = sdk.transaction_query_tranid(args[0])
elif command == "init_refund":
    answer = sdk.init_refund(args[0], args[1], args[2])
elif command == "query_refund_status":
    answer = sdk.query_refund_status(args[0])
else:
    sys.exit("unknown command " + command)
print(json.dumps(answer))
