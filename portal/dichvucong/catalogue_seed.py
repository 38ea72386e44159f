"""The procedure catalogue the portal starts with: real procedure names by field.

Names are those of administrative procedures (thủ tục hành chính) that Vietnamese
provinces publish; fees and processing days are typical, not any one province's
decision. Each procedure is listed once for every tier that handles it.
"""

from __future__ import annotations

import unicodedata

# field -> (code, [(name, tiers, level, fee in VND, processing days)])
# tiers: p = province, d = district, c = commune
CATALOGUE = {
    "Hộ tịch": ("HT", [
        ("Đăng ký khai sinh", "c", 4, 0, 1),
        ("Đăng ký kết hôn", "c", 3, 0, 1),
        ("Đăng ký khai tử", "c", 4, 0, 1),
        ("Đăng ký nhận cha, mẹ, con", "cd", 3, 15000, 3),
        ("Đăng ký giám hộ", "c", 3, 0, 3),
        ("Đăng ký chấm dứt giám hộ", "c", 3, 0, 2),
        ("Đăng ký thay đổi, cải chính, bổ sung thông tin hộ tịch", "cd", 4, 15000, 3),
        ("Cấp bản sao trích lục hộ tịch", "cd", 4, 8000, 1),
        ("Cấp Giấy xác nhận tình trạng hôn nhân", "c", 4, 0, 3),
        ("Đăng ký lại khai sinh", "c", 3, 0, 5),
        ("Đăng ký lại kết hôn", "c", 3, 0, 5),
        ("Đăng ký khai sinh có yếu tố nước ngoài", "d", 3, 75000, 3),
        ("Đăng ký kết hôn có yếu tố nước ngoài", "d", 3, 1500000, 15),
        ("Liên thông đăng ký khai sinh, đăng ký thường trú, cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi", "c", 4, 0, 10),
    ]),
    "Chứng thực": ("CT", [
        ("Chứng thực bản sao từ bản chính giấy tờ, văn bản", "cd", 3, 2000, 1),
        ("Chứng thực chữ ký trong các giấy tờ, văn bản", "cd", 3, 10000, 1),
        ("Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản", "cd", 3, 50000, 2),
        ("Chứng thực việc sửa đổi, bổ sung, hủy bỏ hợp đồng, giao dịch", "cd", 3, 30000, 2),
        ("Chứng thực di chúc", "c", 3, 50000, 2),
        ("Chứng thực văn bản thỏa thuận phân chia di sản", "c", 3, 50000, 3),
        ("Cấp bản sao có chứng thực từ bản chính hợp đồng, giao dịch đã được chứng thực", "cd", 4, 2000, 2),
    ]),
    "Đất đai": ("DD", [
        ("Đăng ký, cấp Giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất lần đầu", "dp", 3, 100000, 30),
        ("Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất", "dp", 3, 50000, 10),
        ("Chuyển mục đích sử dụng đất phải được phép của cơ quan nhà nước có thẩm quyền", "dp", 3, 0, 15),
        ("Tách thửa hoặc hợp thửa đất", "dp", 3, 50000, 15),
        ("Cấp đổi Giấy chứng nhận quyền sử dụng đất", "dp", 3, 50000, 7),
        ("Cấp lại Giấy chứng nhận quyền sử dụng đất do bị mất", "dp", 3, 50000, 10),
        ("Đăng ký thế chấp quyền sử dụng đất, tài sản gắn liền với đất", "dp", 4, 80000, 1),
        ("Xóa đăng ký thế chấp quyền sử dụng đất, tài sản gắn liền với đất", "dp", 4, 20000, 1),
        ("Gia hạn sử dụng đất ngoài khu công nghệ cao, khu kinh tế", "dp", 3, 0, 7),
        ("Đính chính Giấy chứng nhận đã cấp", "dp", 3, 0, 10),
        ("Hòa giải tranh chấp đất đai", "c", 3, 0, 45),
        ("Cung cấp dữ liệu đất đai", "dp", 4, 10000, 2),
    ]),
    "Xây dựng": ("XD", [
        ("Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ", "d", 3, 75000, 15),
        ("Cấp giấy phép xây dựng sửa chữa, cải tạo đối với nhà ở riêng lẻ", "d", 3, 75000, 15),
        ("Cấp giấy phép xây dựng có thời hạn đối với nhà ở riêng lẻ", "d", 3, 75000, 15),
        ("Điều chỉnh giấy phép xây dựng", "dp", 3, 75000, 15),
        ("Gia hạn giấy phép xây dựng", "dp", 3, 15000, 5),
        ("Cấp lại giấy phép xây dựng", "dp", 3, 15000, 5),
        ("Cấp giấy phép xây dựng mới đối với công trình cấp đặc biệt, cấp I, cấp II", "p", 3, 150000, 20),
        ("Thẩm định báo cáo nghiên cứu khả thi đầu tư xây dựng", "p", 3, 0, 25),
        ("Cấp chứng chỉ hành nghề hoạt động xây dựng", "p", 4, 300000, 20),
        ("Cấp giấy phép di dời công trình", "dp", 3, 75000, 20),
    ]),
    "Thành lập và hoạt động doanh nghiệp": ("DN", [
        ("Đăng ký thành lập doanh nghiệp tư nhân", "p", 4, 50000, 3),
        ("Đăng ký thành lập công ty trách nhiệm hữu hạn một thành viên", "p", 4, 50000, 3),
        ("Đăng ký thành lập công ty trách nhiệm hữu hạn hai thành viên trở lên", "p", 4, 50000, 3),
        ("Đăng ký thành lập công ty cổ phần", "p", 4, 50000, 3),
        ("Đăng ký thay đổi người đại diện theo pháp luật", "p", 4, 50000, 3),
        ("Đăng ký thay đổi vốn điều lệ", "p", 4, 50000, 3),
        ("Thông báo tạm ngừng kinh doanh", "p", 4, 0, 3),
        ("Giải thể doanh nghiệp", "p", 4, 0, 5),
        ("Cấp lại Giấy chứng nhận đăng ký doanh nghiệp", "p", 4, 50000, 3),
    ]),
    "Thành lập và hoạt động của hộ kinh doanh": ("HK", [
        ("Đăng ký thành lập hộ kinh doanh", "dc", 4, 100000, 3),
        ("Đăng ký thay đổi nội dung đăng ký hộ kinh doanh", "dc", 4, 50000, 3),
        ("Tạm ngừng kinh doanh, tiếp tục kinh doanh trước thời hạn của hộ kinh doanh", "dc", 4, 0, 3),
        ("Chấm dứt hoạt động hộ kinh doanh", "dc", 4, 0, 3),
        ("Cấp lại Giấy chứng nhận đăng ký hộ kinh doanh", "dc", 4, 50000, 3),
    ]),
    "Thành lập và hoạt động hợp tác xã": ("HX", [
        ("Đăng ký thành lập hợp tác xã", "dp", 4, 100000, 5),
        ("Đăng ký thay đổi tên, địa chỉ trụ sở chính hợp tác xã", "dp", 4, 50000, 3),
        ("Giải thể tự nguyện hợp tác xã", "dp", 3, 0, 5),
    ]),
    "Bảo trợ xã hội": ("BT", [
        ("Thực hiện, điều chỉnh, thôi hưởng trợ cấp xã hội hàng tháng", "cd", 3, 0, 20),
        ("Hỗ trợ chi phí mai táng cho đối tượng bảo trợ xã hội", "cd", 3, 0, 5),
        ("Công nhận hộ nghèo, hộ cận nghèo phát sinh trong năm", "c", 3, 0, 10),
        ("Công nhận hộ thoát nghèo, hộ thoát cận nghèo trong năm", "c", 3, 0, 10),
        ("Trợ giúp xã hội khẩn cấp về hỗ trợ làm nhà ở, sửa chữa nhà ở", "cd", 3, 0, 10),
        ("Xác định, xác định lại mức độ khuyết tật và cấp Giấy xác nhận khuyết tật", "c", 3, 0, 25),
    ]),
    "Người có công": ("NC", [
        ("Giải quyết chế độ trợ cấp một lần đối với người có công", "dp", 3, 0, 20),
        ("Cấp giấy giới thiệu đi thăm viếng mộ liệt sĩ", "p", 4, 0, 5),
        ("Giải quyết chế độ mai táng phí đối với cựu chiến binh", "dp", 3, 0, 20),
        ("Di chuyển hồ sơ người có công với cách mạng", "p", 3, 0, 10),
    ]),
    "Việc làm": ("VL", [
        ("Giải quyết hưởng trợ cấp thất nghiệp", "p", 4, 0, 20),
        ("Cấp giấy phép lao động cho người lao động nước ngoài làm việc tại Việt Nam", "p", 4, 600000, 5),
        ("Cấp lại giấy phép lao động cho người lao động nước ngoài", "p", 4, 450000, 3),
        ("Hỗ trợ học nghề cho người đang hưởng trợ cấp thất nghiệp", "p", 3, 0, 20),
    ]),
    "Giáo dục và Đào tạo": ("GD", [
        ("Chuyển trường đối với học sinh trung học cơ sở", "d", 4, 0, 3),
        ("Chuyển trường đối với học sinh trung học phổ thông", "p", 4, 0, 3),
        ("Cấp bản sao văn bằng, chứng chỉ từ sổ gốc", "dp", 4, 0, 1),
        ("Chỉnh sửa nội dung văn bằng, chứng chỉ", "dp", 3, 0, 5),
        ("Cho phép trung tâm ngoại ngữ, tin học hoạt động giáo dục", "p", 3, 0, 20),
        ("Thành lập nhóm trẻ, lớp mẫu giáo độc lập", "c", 3, 0, 15),
        ("Công nhận trường mầm non đạt chuẩn quốc gia", "p", 3, 0, 30),
        ("Xét, duyệt chính sách hỗ trợ đối với học sinh bán trú", "d", 3, 0, 15),
    ]),
    "Khám bệnh, chữa bệnh": ("KB", [
        ("Cấp giấy phép hành nghề khám bệnh, chữa bệnh", "p", 4, 360000, 30),
        ("Cấp giấy phép hoạt động đối với phòng khám chuyên khoa", "p", 3, 5700000, 45),
        ("Cấp lại giấy phép hoạt động cơ sở khám bệnh, chữa bệnh", "p", 3, 1500000, 15),
        ("Cấp giấy phép hoạt động đối với cơ sở dịch vụ y tế", "p", 3, 3100000, 30),
    ]),
    "An toàn thực phẩm": ("AT", [
        ("Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm đối với cơ sở kinh doanh dịch vụ ăn uống", "dp", 4, 700000, 20),
        ("Cấp lại Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm", "dp", 4, 700000, 20),
        ("Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm nông, lâm, thủy sản", "dp", 4, 700000, 15),
        ("Đăng ký bản công bố sản phẩm", "p", 4, 1500000, 7),
    ]),
    "Dược phẩm": ("DP", [
        ("Cấp chứng chỉ hành nghề dược", "p", 4, 500000, 20),
        ("Cấp Giấy chứng nhận đủ điều kiện kinh doanh dược", "p", 3, 3000000, 30),
        ("Cấp lại chứng chỉ hành nghề dược", "p", 4, 500000, 5),
    ]),
    "Đường bộ": ("GT", [
        ("Đổi giấy phép lái xe do ngành Giao thông vận tải cấp", "p", 4, 135000, 5),
        ("Cấp lại giấy phép lái xe", "p", 4, 135000, 10),
        ("Cấp Giấy phép kinh doanh vận tải bằng xe ô tô", "p", 4, 200000, 5),
        ("Cấp phù hiệu xe ô tô kinh doanh vận tải", "p", 4, 0, 2),
        ("Cấp giấy phép thi công công trình trên đường bộ đang khai thác", "p", 4, 0, 7),
    ]),
    "Đường thủy nội địa": ("DT", [
        ("Đăng ký phương tiện thủy nội địa lần đầu", "dp", 3, 70000, 3),
        ("Xóa giấy chứng nhận đăng ký phương tiện thủy nội địa", "dp", 3, 0, 3),
    ]),
    "Lưu thông hàng hóa trong nước": ("LT", [
        ("Cấp Giấy phép bán lẻ rượu", "d", 4, 1200000, 10),
        ("Cấp Giấy phép bán lẻ sản phẩm thuốc lá", "d", 4, 1200000, 15),
        ("Cấp Giấy chứng nhận đủ điều kiện cửa hàng bán lẻ LPG chai", "dp", 3, 600000, 15),
        ("Cấp Giấy chứng nhận cửa hàng đủ điều kiện bán lẻ xăng dầu", "p", 3, 1200000, 15),
        ("Cấp Giấy phép sản xuất rượu thủ công nhằm mục đích kinh doanh", "d", 3, 500000, 15),
    ]),
    "Môi trường": ("MT", [
        ("Đăng ký môi trường", "dc", 4, 0, 5),
        ("Cấp giấy phép môi trường", "dp", 3, 3000000, 30),
        ("Cấp giấy phép khai thác, sử dụng nước dưới đất", "p", 3, 600000, 30),
        ("Thẩm định báo cáo đánh giá tác động môi trường", "p", 3, 5000000, 45),
    ]),
    "Lâm nghiệp": ("LN", [
        ("Phê duyệt phương án khai thác thực vật rừng thông thường", "dp", 3, 0, 10),
        ("Xác nhận bảng kê lâm sản", "dc", 3, 0, 3),
        ("Nộp tiền trồng rừng thay thế", "p", 3, 0, 15),
    ]),
    "Thú y": ("TY", [
        ("Cấp Giấy chứng nhận kiểm dịch động vật, sản phẩm động vật vận chuyển ra khỏi địa bàn cấp tỉnh", "p", 4, 40000, 3),
        ("Cấp chứng chỉ hành nghề thú y", "p", 4, 100000, 5),
    ]),
    "Phòng, chống thiên tai": ("PC", [
        ("Hỗ trợ khôi phục sản xuất vùng bị thiệt hại do thiên tai, dịch bệnh", "dc", 3, 0, 10),
        ("Cấp giấy phép cho các hoạt động trong phạm vi bảo vệ công trình thủy lợi", "p", 3, 0, 15),
    ]),
    "Lý lịch tư pháp": ("LL", [
        ("Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại Việt Nam", "p", 4, 200000, 10),
        ("Cấp Phiếu lý lịch tư pháp cho cơ quan tiến hành tố tụng", "p", 3, 0, 10),
    ]),
    "Công chứng": ("CC", [
        ("Đăng ký hoạt động Văn phòng công chứng", "p", 3, 1000000, 10),
        ("Cấp thẻ công chứng viên", "p", 3, 0, 10),
        ("Thay đổi nội dung đăng ký hoạt động Văn phòng công chứng", "p", 3, 500000, 10),
    ]),
    "Văn hóa": ("VH", [
        ("Cấp Giấy phép đủ điều kiện kinh doanh dịch vụ karaoke", "dp", 4, 4000000, 5),
        ("Đăng ký tổ chức lễ hội", "dc", 3, 0, 15),
        ("Thông báo tổ chức lễ hội", "c", 3, 0, 10),
        ("Công nhận danh hiệu Gia đình văn hóa", "c", 3, 0, 5),
    ]),
    "Du lịch": ("DL", [
        ("Công nhận hạng cơ sở lưu trú du lịch", "p", 3, 1500000, 30),
        ("Cấp thẻ hướng dẫn viên du lịch nội địa", "p", 4, 650000, 15),
        ("Cấp Giấy phép kinh doanh dịch vụ lữ hành nội địa", "p", 4, 3000000, 10),
    ]),
    "Thi đua, khen thưởng": ("TD", [
        ("Tặng Giấy khen của Chủ tịch Ủy ban nhân dân cấp xã", "c", 3, 0, 20),
        ("Tặng Bằng khen của Chủ tịch Ủy ban nhân dân cấp tỉnh", "p", 3, 0, 20),
        ("Tặng danh hiệu Lao động tiên tiến", "dc", 3, 0, 20),
    ]),
    "Tín ngưỡng, tôn giáo": ("TG", [
        ("Đăng ký sinh hoạt tôn giáo tập trung", "c", 3, 0, 20),
        ("Thông báo danh mục hoạt động tôn giáo", "dc", 3, 0, 15),
        ("Đề nghị tổ chức cuộc lễ ngoài cơ sở tôn giáo", "dp", 3, 0, 15),
    ]),
    "Tổ chức phi chính phủ": ("PCP", [
        ("Công nhận ban vận động thành lập hội", "dp", 3, 0, 30),
        ("Phê duyệt điều lệ hội", "dp", 3, 0, 30),
        ("Thành lập hội", "dp", 3, 0, 30),
    ]),
    "Cư trú": ("CU", [
        ("Đăng ký thường trú", "c", 4, 20000, 7),
        ("Đăng ký tạm trú", "c", 4, 15000, 3),
        ("Gia hạn tạm trú", "c", 4, 15000, 3),
        ("Khai báo tạm vắng", "c", 4, 0, 1),
        ("Xóa đăng ký thường trú", "c", 4, 0, 3),
        ("Xác nhận thông tin về cư trú", "c", 4, 0, 1),
    ]),
    "Tiếp công dân, khiếu nại, tố cáo": ("KN", [
        ("Giải quyết khiếu nại lần đầu", "cdp", 3, 0, 30),
        ("Giải quyết khiếu nại lần hai", "dp", 3, 0, 45),
        ("Giải quyết tố cáo", "cdp", 3, 0, 30),
    ]),
    "Quy hoạch": ("QH", [
        ("Cung cấp thông tin về quy hoạch xây dựng", "dp", 4, 0, 7),
        ("Thẩm định nhiệm vụ, đồ án quy hoạch chi tiết xây dựng", "dp", 3, 0, 20),
    ]),
}

TIERS = {"p": "province", "d": "district", "c": "commune"}


def search_text(name: str) -> str:
    """Lower-case, diacritics removed: 'Đăng ký khai sinh' -> 'dang ky khai sinh'."""
    name = name.replace("Đ", "D").replace("đ", "d")
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()


def seed_rows() -> list[dict]:
    """One row per (procedure, tier), with a stable code such as 'HT.c.001'."""
    rows = []
    for field, (prefix, procedures) in CATALOGUE.items():
        for number, (name, tiers, level, fee, days) in enumerate(procedures, start=1):
            for tier in tiers:
                rows.append({
                    "code": f"{prefix}.{tier}.{number:03d}", "name": name, "field": field,
                    "level": level, "fee_vnd": fee, "processing_days": days,
                    "tier": TIERS[tier], "search_text": search_text(name),
                })
    return rows
