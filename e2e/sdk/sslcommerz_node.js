// The official SSLCOMMERZ Node SDK (sslcommerz-lts), unmodified, pointed at
// Kasse as SSLCOMMERZ.md section 11 says: only its URLs change.
//
// One SDK call per run; the answer is printed as JSON for the test to read.
// KASSE_BASE, STORE_ID and STORE_PASS say where and as whom.
const SSLCommerzPayment = require("sslcommerz-lts");

const base = process.env.KASSE_BASE.replace(/\/$/, "");
const sdk = new SSLCommerzPayment(process.env.STORE_ID, process.env.STORE_PASS, false);
const transactions = base + "/validator/api/merchantTransIDvalidationAPI.php?";
sdk.initURL = base + "/gwprocess/v4/api.php";
sdk.validationURL = base + "/validator/api/validationserverAPI.php?";
sdk.refundURL = transactions;
sdk.refundQueryURL = transactions;
sdk.transactionQueryBySessionIdURL = transactions;
sdk.transactionQueryByTransactionIdURL = transactions;

const [command, ...args] = process.argv.slice(2);
const calls = {
  init: ([shop, tran_id, total_amount]) =>
    sdk.init({
      // The SDK's own README example, with the shop's URLs.
      total_amount,
      currency: "BDT",
      tran_id,
      success_url: shop + "/success",
      fail_url: shop + "/fail",
      cancel_url: shop + "/cancel",
      ipn_url: shop + "/ipn",
      shipping_method: "Courier",
      product_name: "Computer.",
      product_category: "Electronic",
      product_profile: "general",
      cus_name: "Customer Name",
      cus_email: "customer@example.com",
      cus_add1: "Dhaka",
      cus_city: "Dhaka",
      cus_postcode: "1000",
      cus_country: "Bangladesh",
      cus_phone: "01711111111",
      ship_name: "Customer Name",
      ship_add1: "Dhaka",
      ship_city: "Dhaka",
      ship_postcode: 1000,
      ship_country: "Bangladesh",
    }),
  validate: ([val_id]) => sdk.validate({ val_id }),
  transactionQueryBySessionId: ([sessionkey]) => sdk.transactionQueryBySessionId({ sessionkey }),
  transactionQueryByTransactionId: ([tran_id]) => sdk.transactionQueryByTransactionId({ tran_id }),
  initiateRefund: ([bank_tran_id, refund_amount, refund_remarks]) =>
    sdk.initiateRefund({ refund_amount, refund_remarks, bank_tran_id }),
  refundQuery: ([refund_ref_id]) => sdk.refundQuery({ refund_ref_id }),
};
if (!calls[command]) {
  console.error("unknown command " + command);
  process.exit(2);
}
calls[command](args).then((answer) => {
  console.log(JSON.stringify(answer));
  // The SDK answers a failed connection with the error object, not a throw.
  if (answer instanceof Error) process.exit(1);
});
