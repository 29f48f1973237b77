"""Chinese words for the codes the pages show (statuses, kinds, evidence, event kinds)."""

from __future__ import annotations

STATUS = {"on_time": "按时", "late": "逾期", "missing": "未发布", "pending": "未到期",
          "undated": "日期不明", "unobserved": "未能观察"}
KIND = {"government": "人民政府", "department": "部门", "office": "办公室",
        "township": "乡镇街道", "other": "其他"}
EVIDENCE = {
    "meta:PubDate": "页面 PubDate 元数据",
    "visible": "页面显示日期",
    "signature": "落款日期",
    "url": "网址中的日期",
    "http:last-modified": "HTTP Last-Modified",
    "first-seen": "首次抓取时间",
    "no-report": "无报告",
}
VERSION_KIND = {"new": "首次", "revised": "修订", "another_copy": "另一副本"}
EVENT_KIND = {
    "new_report": "新报告",
    "revised_report": "报告被修改",
    "failed_checks": "勾稽关系不符",
    "late_report": "逾期发布",
    "missing_report": "未发布",
    "site_unreachable": "网站无法访问",
    "site_blocked": "网站拒绝访问",
    "column_moved": "栏目迁移",
}
CELL_CLASS = {"NUMERIC": "数值", "ZERO": "零", "EMPTY": "空白", "NA": "不适用", "TEXT": "文字",
              "MISSING": "缺失"}
