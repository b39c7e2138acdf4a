/* The consoles' text catalogue: one home for every staff-facing label, in en, zh-Hant and zh-Hans.
 * Lumen.t("key", {name: value}) looks a label up in the console's language (the <html lang> the
 * server rendered) and falls back to English. Codes stored by the bot (handoff reasons, complaint
 * categories, resolutions) are translated here too, so agents never read raw codes. */
(function () {
  "use strict";
  var C = {
    "en": {
      "handoff.title": "Handed over", "handoff.divider": "Handed to an agent",
      "handoff.reason.explicit_request": "The customer asked for a person",
      "handoff.reason.repeated_failures": "The assistant could not answer several times",
      "handoff.reason.frustration": "The customer is frustrated",
      "handoff.reason.top_tier_complaint": "Complaint from a top-tier customer",
      "handoff.reason.compensation_approval": "A compensation needs your approval",
      "handoff.reason.customer_request": "The customer asked for a person",
      "summary.happened": "What happened", "summary.first": "First message", "summary.order": "Order",
      "summary.wants": "Customer wants", "summary.agreed": "Agreed with the assistant", "summary.ticket": "Ticket #{id}",
      "summary.failed": "The assistant could not answer {n} question(s)", "summary.frustrated": "The customer sounds frustrated",
      "summary.wait": "Promised wait: about {n} min", "summary.severity": "{level} severity",
      "severity.low": "Low", "severity.medium": "Medium", "severity.high": "High", "severity.critical": "Critical",
      "category.late_delivery": "Late delivery", "category.damaged_defective": "Damaged or faulty item",
      "category.wrong_missing_item": "Wrong or missing item", "category.billing_error": "Billing error",
      "category.staff_attitude": "Staff attitude", "category.repair_delay": "Repair delay",
      "resolution.replacement": "Replacement", "resolution.repair": "Free priority repair", "resolution.refund": "Refund",
      "resolution.redelivery": "Priority re-delivery", "resolution.review": "Review by the service manager"
    },
    "zh-Hant": {
      "handoff.title": "已轉接真人", "handoff.divider": "已轉接客服專員",
      "handoff.reason.explicit_request": "顧客要求真人客服",
      "handoff.reason.repeated_failures": "智慧客服多次無法回答",
      "handoff.reason.frustration": "顧客情緒不滿",
      "handoff.reason.top_tier_complaint": "高等級會員的客訴",
      "handoff.reason.compensation_approval": "有補償需要您核准",
      "handoff.reason.customer_request": "顧客要求真人客服",
      "summary.happened": "事情經過", "summary.first": "第一則訊息", "summary.order": "訂單",
      "summary.wants": "顧客希望", "summary.agreed": "已與智慧客服談定", "summary.ticket": "案件 #{id}",
      "summary.failed": "智慧客服有 {n} 個問題無法回答", "summary.frustrated": "顧客聽起來很不滿",
      "summary.wait": "告知的等候時間：約 {n} 分鐘", "summary.severity": "嚴重程度：{level}",
      "severity.low": "低", "severity.medium": "中", "severity.high": "高", "severity.critical": "緊急",
      "category.late_delivery": "配送延遲", "category.damaged_defective": "商品損壞或故障",
      "category.wrong_missing_item": "寄錯或缺件", "category.billing_error": "扣款或帳務錯誤",
      "category.staff_attitude": "服務態度", "category.repair_delay": "維修延誤",
      "resolution.replacement": "換貨", "resolution.repair": "免費優先維修", "resolution.refund": "退款",
      "resolution.redelivery": "優先重新配送", "resolution.review": "由服務主管調查"
    },
    "zh-Hans": {
      "handoff.title": "已转人工", "handoff.divider": "已转接客服专员",
      "handoff.reason.explicit_request": "顾客要求人工客服",
      "handoff.reason.repeated_failures": "智能客服多次无法回答",
      "handoff.reason.frustration": "顾客情绪不满",
      "handoff.reason.top_tier_complaint": "高等级会员的投诉",
      "handoff.reason.compensation_approval": "有补偿需要您审批",
      "handoff.reason.customer_request": "顾客要求人工客服",
      "summary.happened": "事情经过", "summary.first": "第一条消息", "summary.order": "订单",
      "summary.wants": "顾客希望", "summary.agreed": "已与智能客服商定", "summary.ticket": "工单 #{id}",
      "summary.failed": "智能客服有 {n} 个问题无法回答", "summary.frustrated": "顾客听起来很不满",
      "summary.wait": "告知的等候时间：约 {n} 分钟", "summary.severity": "严重程度：{level}",
      "severity.low": "低", "severity.medium": "中", "severity.high": "高", "severity.critical": "紧急",
      "category.late_delivery": "配送延迟", "category.damaged_defective": "商品损坏或故障",
      "category.wrong_missing_item": "发错或缺件", "category.billing_error": "扣款或账务错误",
      "category.staff_attitude": "服务态度", "category.repair_delay": "维修延误",
      "resolution.replacement": "换货", "resolution.repair": "免费优先维修", "resolution.refund": "退款",
      "resolution.redelivery": "优先重新配送", "resolution.review": "由服务主管调查"
    }
  };
  var lang = C[document.documentElement.lang] ? document.documentElement.lang : "en";
  function has(key) { return key in C[lang] || key in C.en; }
  function t(key, values) {
    var text = key in C[lang] ? C[lang][key] : key in C.en ? C.en[key] : key;
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(String(values[k])); });
    return text;
  }
  window.LumenI18n = { t: t, has: has, lang: lang, catalogue: C };
})();
