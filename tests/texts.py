"""Small original texts for tests (written for this project), and how tests write them to files."""

import gzip
from pathlib import Path

import zstandard

ZH_SPEECH = """在全市秋季安全生产工作会议上的讲话
张明远
2019年9月18日

同志们：
今天我们召开全市秋季安全生产工作会议，主要任务是认真贯彻上级关于安全生产工作的部署要求，总结前一阶段工作，分析当前面临的形势，安排部署下一步重点任务。刚才，几个部门作了交流发言，讲得都很好，请大家认真学习借鉴。下面，我讲三点意见。
一、清醒认识当前安全生产形势，切实增强做好工作的责任感
今年以来，在市委、市政府的坚强领导下，各级各部门坚持人民至上、生命至上，扎实推进安全生产专项整治，全市生产安全事故起数和死亡人数实现双下降，为经济社会发展营造了良好环境。但我们也要清醒看到，一些行业领域隐患仍然突出，部分企业主体责任落实不到位，个别地方监管存在漏洞，防范化解重大风险的任务依然艰巨。
二、突出重点抓好隐患排查治理，坚决遏制重特大事故发生
要围绕道路交通、建筑施工、危险化学品、消防、燃气等重点行业领域，开展拉网式排查，建立问题清单、责任清单和整改清单，做到整改措施、责任、资金、时限和预案五落实。对排查出的重大隐患，要挂牌督办，限期整改，整改不到位的坚决停产停业。
三、压紧压实各方责任，确保各项措施落到实处
各级党委政府要严格落实党政同责、一岗双责，主要负责同志要亲自研究、亲自部署、亲自督促。各行业主管部门要按照管行业必须管安全的要求，加强对本行业领域的安全监管。广大企业要切实履行主体责任，加大安全投入，加强员工培训，提升本质安全水平。
同志们，安全生产责任重于泰山。让我们以更加坚决的态度、更加有力的措施，扎实做好秋季安全生产各项工作，为全市高质量发展提供坚强保障。
谢谢大家！
"""

EN_SPEECH = """Remarks at the Opening of the Riverside Library
Mayor Ellen Park
March 4, 2018

Friends and neighbors, thank you for coming out on this cold morning to open a building that many of you spent ten years asking for.
When the old reading room on Canal Street closed, people told us that libraries belonged to another century. They said everything a child needs to read now fits in a phone. You did not believe them, and neither did I.
This library has forty computers, a maker space, a room for quiet study and a room for loud study, and more than ninety thousand books. It has a garden on the roof, where the high school science club will keep bees. It stays open until nine every night, because work does not end at five and neither does curiosity.
We paid for it with a bond that voters approved by a wide margin, and we kept it on budget by building it with local contractors and local apprentices. Twelve young people learned a trade on this site, and four of them are here today.
A library is the one public place where nobody asks what you are buying. You can come in with nothing and leave with the whole world. Let us fill it, use it, and argue in it. Thank you.
"""

#: Page furniture of a download site, as it tops and ends every page it serves.
SITE_HEAD = """分享
{name}.docx
下载文档
温馨提示:
1. 部分包含数学公式或PPT动画的文件,查看预览时可能会显示错乱或异常,文件下载后无此问题,请放心下载。
2. 本文档由用户上传,版权归属用户,本站负责整理代发布。如果您对本文档版权有争议请及时联系客服。
3. 下载前请仔细阅读文档内容,确认文档内容符合您的需求后进行下载,若出现内容与标题不符可向本站投诉处理。
4. 下载文档时可能由于网络波动等原因无法下载或下载错误,付费完成后未能成功下载的用户请联系客服处理。
网站客服:400123456
"""
SITE_FOOT = "\n此文档下载收益归作者所有\n下载文档\n你可能关注的文档\n收起\n展开\n"


def write_compressed(path: Path, data: bytes) -> Path:
    """Write a test file compressed as its name says (.gz: gzip, .zst: zstd; else as it is), making its folders."""
    if path.name.endswith(".gz"):
        data = gzip.compress(data)
    elif path.name.endswith(".zst"):
        data = zstandard.ZstdCompressor().compress(data)
    return write(path, data)


def write(path: Path, data: bytes | str) -> Path:
    """Write a test file (text as UTF-8), making its folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path
