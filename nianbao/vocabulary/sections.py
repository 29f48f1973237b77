"""The six sections every report has, as the formats print them and as readers shorten them.

Both formats (〔2019〕60号 and 〔2021〕30号) have the same skeleton; the headings vary between
bodies (四、政府信息公开行政复议、行政诉讼情况 or 四、因政府信息公开工作被申请行政复议…), so
they are recognised by a pattern and named by a key.
"""

from __future__ import annotations

import re

# key → the heading as the standard format prints it
HEADINGS = {
    "overview": "一、总体情况",
    "active": "二、主动公开政府信息情况",
    "requests": "三、收到和处理政府信息公开申请情况",
    "review": "四、政府信息公开行政复议、行政诉讼情况",
    "problems": "五、存在的主要问题及改进情况",
    "other": "六、其他需要报告的事项",
}
# key → a short name for alerts, pages and exports
LABELS = {
    "overview": "总体情况", "active": "主动公开", "requests": "依申请公开",
    "review": "复议诉讼", "problems": "存在的主要问题及改进情况", "other": "其他需要报告的事项",
}
# key → what a heading of that section says, in any body's wording
PATTERNS = (
    ("overview", re.compile(r"总体情况|概述|基本情况")),
    ("active", re.compile(r"主动公开")),
    ("requests", re.compile(r"收到和处理|依申请|申请情况")),
    ("review", re.compile(r"复议|诉讼")),
    ("problems", re.compile(r"问题|改进")),
    ("other", re.compile(r"其他需要报告|其他事项|其他需报告")),
)
# A numbered heading: 一、 / （一） / 一. — the numeral is group 1.
NUMBERED_HEADING = re.compile(r"^[（(]?([一二三四五六七八九十])[）)]?[、.．\s]")
NUMERALS = "一二三四五六七八九十"


def section_of(heading: str) -> str | None:
    """The key of the section a heading names, or None."""
    return next((key for key, pattern in PATTERNS if pattern.search(heading)), None)
