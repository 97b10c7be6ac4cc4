// The caps of a multi-page read (ReadCaps): fetch_all_pages stops as soon as the items or their
// bytes pass a cap, asks for no page once a cap is reached with pages left, and json_text_size
// measures items as dump() would write them, without recursion. Pages come from a lambda that
// counts the requests.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

#include "core/dinamize/dinamize_api.h"

namespace dwu {
namespace {

using json = nlohmann::json;

// A walk over `total` items, `per_page` per page, body.next while more remain.
struct FakeSearch {
    long total;
    long per_page;
    long requests = 0;
    Page operator()(long number) {
        ++requests;
        Page p;
        for (long i = (number - 1) * per_page; i < total && i < number * per_page; i++)
            p.items.push_back(
                json{{"code", std::to_string(100000 + i)}, {"email", "c" + std::to_string(i) + "@x.com"}});
        p.next = number * per_page < total;
        return p;
    }
};

AllPages walk(FakeSearch& s, const ReadCaps& caps, long max_pages = 100) {
    return fetch_all_pages([&](long n) { return s(n); }, max_pages, OnPageLimit::Throw, caps);
}

TEST(BoundedReadsTest, NoCapsReadEverything) {
    FakeSearch s{25, 10};
    AllPages all = walk(s, {});
    EXPECT_EQ(all.items.size(), 25u);
    EXPECT_EQ(s.requests, 3);
}

TEST(BoundedReadsTest, PassingTheRowCapStopsAtThatPage) {
    FakeSearch s{25, 3};
    ReadCaps caps;
    caps.max_items = 5;
    try {
        walk(s, caps);
        FAIL() << "no ReadLimitExceeded";
    } catch (const ReadLimitExceeded& e) {
        EXPECT_EQ(e.cap(), ReadLimitExceeded::Cap::Items);
        EXPECT_EQ(e.limit(), 5);
        EXPECT_STREQ(e.what(), "more than 5 rows to read: 6 rows read in 2 pages, stopped there");
    }
    EXPECT_EQ(s.requests, 2);
}

TEST(BoundedReadsTest, ReachingTheRowCapWithPagesLeftAsksForNoMore) {
    FakeSearch s{25, 2};
    ReadCaps caps;
    caps.max_items = 4;
    try {
        walk(s, caps);
        FAIL() << "no ReadLimitExceeded";
    } catch (const ReadLimitExceeded& e) {
        EXPECT_STREQ(e.what(),
                     "more than 4 rows to read: 4 rows read in 2 pages and more follow, stopped before the "
                     "next page");
    }
    EXPECT_EQ(s.requests, 2);  // the third page could only pass the cap: never asked for
}

TEST(BoundedReadsTest, ExactlyTheRowCapOnTheLastPageIsFine) {
    FakeSearch s{4, 2};
    ReadCaps caps;
    caps.max_items = 4;
    AllPages all = walk(s, caps);
    EXPECT_EQ(all.items.size(), 4u);
    EXPECT_TRUE(all.complete);
    EXPECT_EQ(s.requests, 2);
}

TEST(BoundedReadsTest, OnePageOverTheRowCapFailsToo) {
    FakeSearch s{6, 10};
    ReadCaps caps;
    caps.max_items = 5;
    EXPECT_THROW(walk(s, caps), ReadLimitExceeded);
    EXPECT_EQ(s.requests, 1);
}

TEST(BoundedReadsTest, TheByteCapCountsTheItemsText) {
    FakeSearch probe{1, 1};
    const size_t item_bytes = probe(1).items[0].dump().size();
    FakeSearch s{25, 3};
    ReadCaps caps;
    caps.max_bytes = static_cast<long long>(item_bytes * 4);  // 4 items fit, the 2nd page's 6th does not
    try {
        walk(s, caps);
        FAIL() << "no ReadLimitExceeded";
    } catch (const ReadLimitExceeded& e) {
        EXPECT_EQ(e.cap(), ReadLimitExceeded::Cap::Bytes);
        EXPECT_EQ(e.limit(), caps.max_bytes);
        EXPECT_NE(std::string(e.what()).find(std::to_string(item_bytes * 6) + " bytes (6 rows) read in 2 pages"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_EQ(s.requests, 2);

    FakeSearch fits{4, 2};
    caps.max_bytes = static_cast<long long>(item_bytes * 4);
    EXPECT_EQ(walk(fits, caps).items.size(), 4u);
}

TEST(BoundedReadsTest, CapsComeBeforeThePageLimit) {
    FakeSearch s{25, 2};
    ReadCaps caps;
    caps.max_items = 4;
    EXPECT_THROW(walk(s, caps, 2), ReadLimitExceeded);
    FakeSearch t{25, 2};
    caps.max_items = 100;
    EXPECT_THROW(walk(t, caps, 2), PageLimitExceeded);
}

TEST(BoundedReadsTest, NegativeCapsAreRefusedBeforeAnyRequest) {
    FakeSearch s{5, 2};
    ReadCaps caps;
    caps.max_items = -1;
    EXPECT_THROW(walk(s, caps), std::invalid_argument);
    caps.max_items = 0;
    caps.max_bytes = -1;
    EXPECT_THROW(walk(s, caps), std::invalid_argument);
    EXPECT_EQ(s.requests, 0);
}

TEST(BoundedReadsTest, JsonTextSizeIsTheLengthOfDump) {
    const json values[] = {
        json(nullptr),
        json(true),
        json(false),
        json(0),
        json(-1234567890123LL),
        json(18446744073709551615ULL),
        json(3.25),
        json(""),
        json("a \"quoted\" \\ path"),
        json("ação ☃"),
        json::array(),
        json::object(),
        json::parse(R"({"code": "100003", "email": "ana@example.com", "custom_fields": {"cmp4": ["1", "2"]},
                        "n": [1, [2, [3, {}]], null, true], "x": {"": ""}})"),
    };
    for (const json& v : values) EXPECT_EQ(json_text_size(v), v.dump().size()) << v.dump();
    // Control characters are estimated as \u00XX: never less than dump() writes.
    const json controls("line\nbreak\ttab\x01");
    EXPECT_GE(json_text_size(controls), controls.dump().size());
}

TEST(BoundedReadsTest, JsonTextSizeNeedsNoRecursion) {
    json root = json::array();
    json* cur = &root;
    for (int i = 0; i < 5000; i++) {
        cur->push_back(json::array());
        cur = &cur->back();
    }
    EXPECT_EQ(json_text_size(root), 2u * 5001u);
}

}  // namespace
}  // namespace dwu
