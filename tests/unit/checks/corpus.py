"""The team's own corpus of damaged and clean texts, written for these tests (not copied from
the review's corpus, which is kept apart to measure the checks honestly). Damage is made the
way it happens: real Chinese sentences run through the wrong codec, shifted a byte,
escaped for the web, annotated by a converter, padded with invisible characters, cut short.

``DAMAGED[kind]`` must each get an error (or, where the kind allows, a ``fixed``);
``CLEAN[kind]`` must each pass without an error. ``recall_table`` measures both."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from urllib.parse import quote

import opencc

from bot.content.checks import check_text

SENTENCES = [
    "团区委召开全体干部会议，部署下半年重点工作。",
    "青年大学习第十二期上线，欢迎广大团员青年参与。",
    "本次活动共吸引三百余名志愿者报名参加。",
    "各级团组织要切实加强对青少年的思想引领。",
    "学习平台专栏本月发布学习资源相关推文八篇。",
    "主题团日活动在革命纪念馆举行，团员们重温入团誓词。",
    "请各支部于本周五前报送活动总结材料。",
    "乡村振兴青年突击队深入田间地头开展志愿服务。",
    "网上主题团课围绕党的创新理论展开讲解。",
    "暑期社会实践团队走访了十二个行政村。",
    "青年之家开设周末读书会，每期推荐一本好书。",
    "共青团员要在学习和工作中发挥模范带头作用。",
    "防汛救灾一线活跃着青年志愿者的身影。",
    "推荐优秀团员作为党的发展对象人选。",
    "全区共建成青年文明号集体四十五个。",
    "爱国主义教育基地数字展馆正式对外开放。",
    "少先队辅导员培训班今天在区委党校开班。",
    "微心愿活动为困难学生筹集文具和图书。",
    "大学生志愿服务西部计划开始报名。",
    "团干部要经常深入基层倾听青年呼声。",
]

# Readings of the characters the annotation cases gloss (written for this corpus).
READINGS = {
    "团": "tuán", "区": "qū", "委": "wěi", "召": "zhào", "开": "kāi", "全": "quán",
    "体": "tǐ", "干": "gàn", "部": "bù", "会": "huì", "议": "yì", "青": "qīng",
    "年": "nián", "大": "dà", "学": "xué", "习": "xí", "第": "dì", "期": "qī",
    "上": "shàng", "线": "xiàn", "主": "zhǔ", "题": "tí", "课": "kè", "网": "wǎng",
}  # fmt: skip
NUMBERED = {"团": "tuan2", "区": "qu1", "委": "wei3", "青": "qing1", "年": "nian2", "学": "xue2"}


def _s2t(text: str) -> str:
    return str(opencc.OpenCC("s2t").convert(text))


def _utf8_as(codec: str, text: str) -> str:
    return text.encode("utf-8").decode(codec, errors="replace")


def _gbk_as_latin1(text: str) -> str:
    return text.encode("gbk").decode("latin-1")


def _double(text: str) -> str:
    once = text.encode("utf-8").decode("cp1252", errors="replace")
    return once.encode("utf-8").decode("cp1252", errors="replace")


def _shifted(text: str) -> str:
    """A GBK stream that lost its first byte, decoded as GBK (the decoder marks what it
    cannot read with '?', as the seed's converter did)."""
    data = text.encode("gbk")[1:]
    return data.decode("gbk", errors="replace").replace("\ufffd", "?")


def _annotate(text: str, form: str) -> str:
    out = []
    for char in text:
        out.append(char)
        if char in READINGS:
            out.append(form.format(READINGS[char]))
    return "".join(out)


def _numbered(text: str) -> str:
    return "".join(c + (f"({NUMBERED[c]})" if c in NUMBERED else "") for c in text)


def _between(text: str, char: str, every: int = 3) -> str:
    return "".join(c + (char if i % every == every - 1 else "") for i, c in enumerate(text))


def _gen(kind: Callable[[str], str], sentences: list[str]) -> list[str]:
    return [kind(s) for s in sentences]


S = SENTENCES
P = [S[0], S[1], S[8], S[9], S[4]]  # sentences with characters READINGS glosses
DAMAGED: dict[str, list[str]] = {
    "utf8-as-gbk": _gen(lambda s: _utf8_as("gbk", s), S[:10]),
    "utf8-as-latin": [
        *_gen(lambda s: _utf8_as("cp1252", s), S[:4]),
        *_gen(lambda s: _utf8_as("latin-1", s), S[4:7]),
        *_gen(lambda s: _utf8_as("mac_roman", s), S[7:11]),
    ],
    "gbk-as-utf8": [
        *_gen(lambda s: _utf8_as("utf-8", s.encode("gbk").decode("latin-1")), []),
        *(s.encode("gbk").decode("utf-8", errors="replace") for s in S[:5]),
        "团区委：??????????。",
        "报名截止：????年??月。",
        "青年大学习??????上线",
    ],
    "gbk-as-latin1": _gen(_gbk_as_latin1, S[10:16]),
    "gbk-as-utf8-dropped": [
        s.encode("gbk").decode("utf-8", errors="ignore") + "通知" for s in S[16:20]
    ],
    "gbk-shifted": [*_gen(_shifted, S[:8]), "增进认同?!叭轿弧闭覝?zhǔn)青年需求"],
    "garbage": [
        "锟斤拷锟斤拷",
        "标题：锟斤拷",
        "烫烫烫烫烫",
        "屯屯屯屯",
        "内容葺葺葺葺",
        "消息锟斤拷烫烫烫",
    ],
    "double-encoded": _gen(_double, S[:6]),
    "html-entities": [
        "青年之家&amp;志愿服务队",
        "团课&nbsp;第一讲",
        "&#x56E2;课通知",
        "&#22242;课通知",
        "&lt;p&gt;团区委召开会议&lt;/p&gt;",
        "他说&amp;ldquo;学习&amp;rdquo;很重要",
        "&ldquo;青年大学习&rdquo;上线",
        "团课&nbsp通知",
        "<p>团区委召开会议</p>",
        "第一行\\n第二行",
        *(html.escape(f"<b>{s}</b>") for s in S[:4]),
    ],
    "literal-escapes": [
        *(json.dumps(s)[1:-1] for s in S[:4]),
        *(json.dumps(json.dumps(s)[1:-1])[1:-1] for s in S[4:6]),
        "\\U000056e2\\U00008bfe",
        *(quote(s) for s in S[6:9]),
        "b'\\xe5\\x9b\\xa2\\xe8\\xaf\\xbe'",
        "标题：\\u5b66\\u4e60\\u5f3a\\u56fd",
        "u5b66u4e60u5f3au56fd",
    ],
    "pinyin": [
        *(_annotate(s, "({})") for s in P[:3]),
        *(_annotate(s, "[{}]") for s in P[1:3]),
        *(_annotate(s, "【{}】") for s in P[:2]),
        *(_annotate(s, " ({})") for s in P[2:4]),
        *(_annotate(s, "（{}）") for s in P[3:5]),
        *(_annotate(s, "{}") for s in P[:3]),
        *(_annotate(s, "({})").upper() for s in P[1:2]),
        *(_numbered(s) for s in P[:2]),
        "团(tuan)课(ke)通知",
        "青年(qing nian)大学习(da xue xi)",
    ],
    "traditional": [
        *(_s2t(s) for s in S[:6]),
        "主题教育學習平台正式上线",
        "加强團結協作，推动工作落实",
        "團結奮鬥，開創未來",
        "各级团组织要認真學習會議精神",
    ],
    "invisible": [
        *(_between(s, "\u200b") for s in S[:3]),
        *(_between(s, "\u200c", 4) for s in S[3:5]),
        *(_between(s, "\u200d", 5) for s in S[5:7]),
        "青年\u2060大学习",
        "团课\u00ad通知",
        "\ufeff青年大学习",
        "青年大学习\u3164\u3164\u3164",
    ],
    "bidi": [
        "联系电话：\u202e13800138000\u202c",
        "\u202d青年大学习\u202c",
        "报名\u2067截止\u2069时间",
        "团课\u200f通知",
        "活动\u200e地点",
        "\u2066青年\u2069之家",
    ],
    "private-use": [
        "\ue60a 点击查看",
        "青年\ue81e之家",
        "\U000f0001报名",
        "\uf0b7 第一条要求",
        "团课\ue000通知",
    ],
    "word-artefacts": [
        "详见第三部分错误！未找到引用源。",
        "如图错误!未定义书签。所示",
        '参见 HYPERLINK "http://www.gqt.org.cn" 团中央网站',
        "对象\ufffc已插入",
        "第一行\u2028第二行",
        "他说：“今天开会",
        "学习《习近平谈治国理政",
        "Error! Reference source not found.",
        "请见 PAGEREF _Ref123456 \\h 页",
        "第 PAGE \\* MERGEFORMAT 页",
    ],
    "truncation": [
        "青年大学ä¹",
        "本期主题团?",
        "上线啦????",
        "活动圆满成功🎉".encode().decode("utf-8")[:-1] + "??",
        "团区委召开会议，部署重点工",
        "全区青年志愿者参加了“文明创城",
    ],
    "placeholders": [
        "{{name}}同志：",
        "${name}同志：",
        "尊敬的{0}：",
        "欢迎%s参加",
        "XXX同志在会上讲话",
        "【此处填写活动时间】",
        "【待补充】",
        "TODO：补充活动照片",
        "[请输入标题]",
        "«姓名»同志",
        "（此处插入图片）",
        "报名时间：xx月xx日",
        "姓名：________",
        "【】同志",
        "点击此处输入文字",
        "<<姓名>>同志：",
    ],
}

# Kinds whose examples may be repaired automatically instead of refused.
FIXABLE = {"invisible", "word-artefacts"}  # U+2028 is fixed into a line break

CLEAN: dict[str, list[str]] = {
    "sentences": list(SENTENCES),
    "policy": [
        "一是“学”在先。二是“干”在前。三是“实”为本。",
        "坚持“党建带群建，群建壮党建”，推动主题教育落实落细。",
        "要以习近平新时代中国特色社会主义思想为指导。",
        "全面贯彻党的二十大精神，扎实推进各项工作。",
        "延平：主题教育显成效 群团事业谱新篇——团区委篇",
    ],
    "rare-names": [
        "王堃、陈喆、李昇、朱镕、张赟",
        "朱镕基、王喆、李堃、陶喆同志参加。",
        "颁奖嘉宾：邝美云、欧阳娜娜、司马懿",
        "石嘴山市、亳州市、蚌埠市团委",
        "单位：濮阳市团委；联系人：郗鑫",
        "龚琛、邹昊、闫旭、芮成同志",
    ],
    "numbers": [
        "助学金7.67万元",
        "2024年2月4日",
        "2023-09-01至2024-01-31",
        "完成率≥80%",
        "误差±0.5",
        "占比1/3",
        "共计2488场、4期",
        "11:30—12:00",
        "第3.5版，同比增长12.5%",
        "温度-5℃～3℃",
    ],
    "latin": [
        "APP下载量突破一万",
        "5G基站建设",
        "CPC党员",
        "使用微信(WeChat)学习",
        "Café au lait, naïve façade",
        "São Paulo – 1929",
        "PPT模板、PDF文件",
        "iPhone用户请升级iOS 17",
    ],
    "quotes": [
        "“青年大学习”",
        "「学习强国」",
        "《中国青年报》",
        "『团课』系列",
        "他说：“我们要‘学’在先。”",
        "书名号《〈论语〉选读》",
    ],
    "emoji": [
        "🎉青年大学习上线啦👍",
        "👨\u200d👩\u200d👧 家庭教育",
        "👍🏽点赞",
        "🇨🇳祖国生日快乐",
        "❤️爱心义卖",
        "1️⃣第一步",
    ],
    "urls": [
        "https://mp.weixin.qq.com/s/abc123",
        "详见 https://www.gqt.org.cn/notice/2024?id=1&page=2",
        "链接：https://news.cyol.com/gb/articles/2024-02/04/content_abc.htm",
        "https://example.cn/%E5%9B%A2%E8%AF%BE",
    ],
    "maths": ["E=mc²", "a²+b²=c²", "x∈[0,1]", "∑ 求和", "f(x)=2x+1", "√2≈1.414"],
    "traditional-allowed": [
        "《蘭亭序》",
        "“為人民服務”",
        "“榮寶齋”",
        "香港青年協會",
        "《說文解字》",
        "於姓同志",
        "乾县团委",
        "临摹《蘭亭序》的学员",
    ],
    "pinyin-gloss": ["王堃（kūn）同志", "李昇（shēng）同学发言", "张赟(yūn)老师"],
    "punctuation": ["真的吗？", "你好吗?", "好！", "……", "——破折号", "（括号）【方括号】"],
    "misc": [
        "一、二、三",
        "第一条 为了规范管理，制定本办法。",
        "注：以上数据截至2024年1月。",
        "附件：1. 报名表 2. 汇总表",
        "联系电话：0599-8888888",
        "邮箱：tuanqu@example.cn",
        "团员青年踊跃报名",
        "地址：南平市延平区",
        "活动时间：3月5日（星期二）",
        "某某同志",
        "“一带一路”倡议",
        "党史学习教育",
        "Ⅰ、Ⅱ、Ⅲ级",
        "①②③步骤",
        "℃、㎡、‰",
        "《中华人民共和国宪法》",
        "第二批主题教育",
        "省级青年文明号",
        "国家一级运动员",
        "八荣八耻",
        "“三会两制一课”",
        "二○○四年九月",
        "Łódź、Kraków 交流团",
        "α+β=γ",
        "lǚ xíng（旅行）",
        "数据(data)和模型(model)",
        "Ω、μ、π",
    ],
    "everyday": [
        "还在犹豫?赶快报名参加吧",
        "如何报名?扫码即可",
        "活动时间：3月5日（星期二)",
        "1）报名；2）签到；3）学习",
        "英语单词 apple /ˈæpəl/ 的读音",
        "台灣大學",
        "2024年度“五四红旗团委”评选结果公示",
        "根据《中国共产主义青年团章程》第二十一条规定，经研究决定，增补张三同志为团区委委员。",
        "报名方式：请于5月10日前将报名表发送至邮箱tuanwei@example.cn（联系人：李老师，电话：0599-1234567）。",
        "本次培训共设置“理论学习”“实践锻炼”“交流研讨”三个模块，为期3天。",
        "❤️ 感谢每一位志愿者的付出！#青春正当时#",
        "Q&A：常见问题解答",
        "AT&T、R&D部门",
        "C++与Python课程",
        "温馨提示：请勿重复提交!!",
        "点击“阅读原文”了解更多>>>",
        "【通知】关于开展2024年“青年大学习”的通知",
        "第一期 | 团史小课堂",
        "No.1 团员风采",
        "TOP10 优秀团支部",
        "微信号：gqt_yanping",
        "📢📢📢重要通知",
        "《关于印发〈实施方案〉的通知》",
        "时间：2024.03.05 14:30",
        "x²+y²=1",
        "比例 1∶2",
        "Hello, World!",
        "制度有待完善，内容有待补充",
        "iPhone U2 乐队",
        "香港特別行政區政府",
    ],
}


def outcome(text: str) -> str:
    """'error', 'fixed', 'warning' or 'pass': the strongest finding on ``text``."""
    severities = {f.severity for f in check_text(text, "text")}
    for severity in ("error", "fixed", "warning"):
        if severity in severities:
            return severity
    return "pass"


def recall_table() -> tuple[dict[str, tuple[int, int, int]], dict[str, list[str]]]:
    """Per damaged kind (caught, warned only, total), and the clean texts refused per kind."""
    damaged = {}
    for kind, texts in DAMAGED.items():
        outcomes = [outcome(t) for t in texts]
        caught = sum(o == "error" or (o == "fixed" and kind in FIXABLE) for o in outcomes)
        damaged[kind] = (caught, outcomes.count("warning"), len(texts))
    false_errors = {
        kind: [t for t in texts if outcome(t) == "error"] for kind, texts in CLEAN.items()
    }
    return damaged, false_errors
