import Mustache

/// The console's pages as Mustache templates. `{{x}}` escapes HTML, so nothing a user typed is ever rendered
/// as markup; `{{{body}}}` only ever holds a page this library rendered.
enum ConsoleTemplates {
    static func library() throws -> MustacheLibrary {
        MustacheContentTypes.register(ConsoleHTMLEscaping(), named: ConsoleHTMLEscaping.name)
        var library = MustacheLibrary()
        // Every template escapes with ConsoleHTMLEscaping, set here so no template can forget it.
        for (name, text) in Self.all {
            try library.register("{{% CONTENT_TYPE: \(ConsoleHTMLEscaping.name)}}" + text, named: name)
        }
        return library
    }

    static let all: [(String, String)] = [
        ("layout", layout), ("signIn", signIn), ("resume", resume), ("message", message), ("queue", queue),
        ("enterprises", enterprises), ("enterprise", enterprise), ("overview", overview), ("forecast", forecast),
        ("campaign", campaign),
    ]

    static let layout = """
        <!doctype html>
        <html lang="zh-CN">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · 嘉兴市惠企政策兑付平台</title>
        <style>
        body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 0; color: #1d2733; background: #f5f7fa; }
        header { background: #b3261e; color: #fff; padding: 10px 24px; display: flex; align-items: center; gap: 24px; }
        header .who { margin-left: auto; }
        header form { display: inline; }
        nav a { color: #fff; margin-right: 16px; }
        main { padding: 16px 24px; max-width: 1200px; }
        table { border-collapse: collapse; width: 100%; background: #fff; margin: 8px 0 16px; }
        th, td { border: 1px solid #d5dbe3; padding: 6px 8px; text-align: left; vertical-align: top; font-size: 14px; }
        th { background: #eef1f5; }
        .money { text-align: right; white-space: nowrap; }
        .flash { background: #e8f4ea; border: 1px solid #7bb38a; padding: 8px; }
        .error { background: #fbeaea; border: 1px solid #d07070; padding: 8px; }
        .quote { color: #4a5563; font-size: 13px; border-left: 3px solid #c9ced6; padding-left: 6px; }
        .late { color: #b3261e; font-weight: bold; }
        form.inline { display: inline-block; margin: 2px 0; }
        input[type=text], input[type=password], input[type=number] { padding: 4px; }
        button { padding: 4px 10px; }
        </style>
        </head>
        <body>
        <header>
        <strong>嘉兴市惠企政策“免申即享”兑付平台</strong>
        {{#account}}
        <nav>{{#links}}<a href="{{href}}">{{label}}</a>{{/links}}</nav>
        <span class="who">{{displayName}}（{{roleName}}）</span>
        <form method="post" action="/console/sign-out"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" id="sign-out">退出</button></form>
        {{/account}}
        </header>
        <main>
        <h1>{{title}}</h1>
        {{#flash}}<p class="flash" id="flash">{{flash}}</p>{{/flash}}
        {{#error}}<p class="error" id="error">{{error}}</p>{{/error}}
        {{{body}}}
        </main>
        </body>
        </html>
        """

    static let signIn = """
        <form method="post" action="/console/sign-in" id="sign-in">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <input type="hidden" name="next" value="{{next}}">
        {{#preserved}}<input type="hidden" name="{{name}}" value="{{value}}">{{/preserved}}
        <p><label>用户名 <input type="text" name="user" value="{{user}}" autocomplete="username" required></label></p>
        <p><label>密码 <input type="password" name="password" autocomplete="current-password" required></label></p>
        <p><button type="submit">登录</button></p>
        </form>
        {{#hasPreserved}}<p class="quote">会话已过期。您填写的内容已保留，登录后可确认并重新提交。</p>{{/hasPreserved}}
        """

    static let resume = """
        <p>会话过期前您提交的表单已保留如下，请核对后重新提交。</p>
        <form method="post" action="{{action}}" id="resume">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <table>
        {{#fields}}<tr><th>{{name}}</th><td><input type="text" name="{{name}}" value="{{value}}"></td></tr>{{/fields}}
        </table>
        <button type="submit">重新提交</button>
        </form>
        """

    static let message = """
        <p>{{text}}</p>
        {{#back}}<p><a href="{{back}}">返回</a></p>{{/back}}
        """

    static let queue = """
        <form method="get" action="/console/queue" id="filter" class="inline">
        金额 <input type="number" name="min_yuan" min="0" step="0.01" value="{{minYuan}}" placeholder="下限（元）"> ～
        <input type="number" name="max_yuan" min="0" step="0.01" value="{{maxYuan}}" placeholder="上限（元）">
        <select name="adjustment"><option value="">全部</option><option value="reduced"{{#adjustmentReduced}} selected{{/adjustmentReduced}}>因上限或就高不重复调减</option><option value="requested"{{#adjustmentRequested}} selected{{/adjustmentRequested}}>按申报金额</option></select>
        <button type="submit">筛选</button>{{#filterActive}} <a href="/console/queue">清除筛选</a>{{/filterActive}}
        </form>
        {{#hasGroups}}
        <h2>按条款与县（市、区）汇总{{#filterActive}}（已筛选：批量决定只含筛选出的兑付单）{{/filterActive}}</h2>
        {{#groupsPartial}}<p class="late">待审批超过 {{summarized}} 笔，汇总只含前 {{summarized}} 笔。</p>{{/groupsPartial}}
        <table id="groups">
        <tr><th>条款</th><th>县（市、区）</th><th class="money">笔数 / 合计</th><th>金额范围与抽样</th><th>批量决定（一条理由记入每一笔）</th></tr>
        {{#groups}}
        <tr class="group">
        <td>{{clauseTitle}}</td>
        <td>{{county}}</td>
        <td class="money">{{count}} 笔<br>{{total}}</td>
        <td>{{range}}{{#reduced}}<br><small>{{reduced}}</small>{{/reduced}}{{#sample}}<br><small><a href="#order-{{id}}">{{enterpriseName}} {{amount}}</a></small>{{/sample}}</td>
        <td>
        <form method="post" action="/console/orders/groups/decide" class="inline">
        <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="clause" value="{{clause}}"><input type="hidden" name="county" value="{{countyValue}}"><input type="hidden" name="min_yuan" value="{{minYuan}}"><input type="hidden" name="max_yuan" value="{{maxYuan}}"><input type="hidden" name="adjustment" value="{{adjustment}}"><input type="hidden" name="as_of" value="{{asOf}}">
        <input type="text" name="reason" placeholder="理由（必填）" required>
        <button type="submit" name="decision" value="approve" class="approve">全部批准</button>
        <button type="submit" name="decision" value="reject" class="reject">全部驳回</button>
        </form>
        </td>
        </tr>
        {{/groups}}
        </table>
        {{/hasGroups}}
        <h2>待审批的兑付单（{{orderCount}}）</h2>
        {{^orders}}<p>没有待审批的兑付单。</p>{{/orders}}
        {{#hasOrders}}
        <table id="orders">
        <tr><th>企业</th><th>条款与原文</th><th class="money">金额</th><th>说明</th><th>期限</th><th>决定</th></tr>
        {{#orders}}
        <tr id="order-{{id}}">
        <td>{{enterpriseName}}<br><small>{{creditCode}} · {{county}}</small></td>
        <td>{{clauseTitle}}<br><span class="quote">{{clauseText}}</span></td>
        <td class="money">{{amount}}{{#requestedDiffers}}<br><small>测算 {{requested}}</small>{{/requestedDiffers}}</td>
        <td>{{#explanation}}<span class="explanation">{{explanation}}</span><br>{{/explanation}}{{subject}} · {{period}}年{{#reason}}<br>{{reason}}{{/reason}}{{#overlapGroup}}<br><small>就高不重复组：{{overlapGroup}}</small>{{/overlapGroup}}</td>
        <td>{{expires}}</td>
        <td>
        <form method="post" action="/console/orders/{{id}}/approve" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="approve">批准</button></form>
        <form method="post" action="/console/orders/{{id}}/reject" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><input type="text" name="reason" placeholder="驳回理由" required><button type="submit" class="reject">驳回</button></form>
        </td>
        </tr>
        {{/orders}}
        </table>
        {{/hasOrders}}
        <h2>限时即享申请（{{applicationCount}}）</h2>
        {{^applications}}<p>没有待决定的申请。</p>{{/applications}}
        {{#hasApplications}}
        <table id="applications">
        <tr><th>企业</th><th>条款</th><th class="money">申请 / 上限</th><th>申报事实</th><th>办结期限</th><th>决定</th></tr>
        {{#applications}}
        <tr id="application-{{id}}">
        <td>{{enterpriseName}}<br><small>{{creditCode}}</small></td>
        <td>{{clauseTitle}}<br><span class="quote">{{clauseText}}</span></td>
        <td class="money">{{requested}}<br><small>上限 {{maximum}}</small></td>
        <td>{{#facts}}{{.}}<br>{{/facts}}{{#evidence}}<small>附件：<a href="{{href}}">{{name}}</a>（{{detail}}）</small><br>{{/evidence}}</td>
        <td{{#late}} class="late"{{/late}}>{{dueOn}}{{#dueProvisional}}<br><small>暂按法定节假日推算</small>{{/dueProvisional}}<br>{{timeLeft}}</td>
        <td>
        <form method="post" action="/console/applications/{{id}}/decide" class="inline">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label>核定金额（元）<input type="number" name="amount_yuan" min="0" step="0.01" value="{{requestedYuan}}"></label>
        <input type="text" name="reason" placeholder="理由（驳回必填）">
        <button type="submit" name="decision" value="approve">批准</button>
        <button type="submit" name="decision" value="reject">驳回</button>
        </form>
        </td>
        </tr>
        {{/applications}}
        </table>
        {{/hasApplications}}
        {{#hasApplicationsNext}}<p><a href="{{applicationsNext}}" id="applications-next">更早的申请</a></p>{{/hasApplicationsNext}}
        """

    static let enterprises = """
        <form method="get" action="/console/enterprises" id="search">
        <input type="text" name="q" value="{{query}}" placeholder="企业名称或统一社会信用代码">
        <button type="submit">查询</button>
        </form>
        <table id="enterprises">
        <tr><th>企业</th><th>统一社会信用代码</th><th>县（市、区）</th><th>行业</th></tr>
        {{#enterprises}}<tr><td><a href="/console/enterprises/{{creditCode}}">{{name}}</a></td><td>{{creditCode}}</td><td>{{county}}</td><td>{{industry}}</td></tr>{{/enterprises}}
        </table>
        {{^enterprises}}<p>没有符合条件的企业。</p>{{/enterprises}}
        {{#next}}<p><a href="{{next}}" id="next-page">下一页</a></p>{{/next}}
        """

    static let enterprise = """
        <form method="get" action="/console/enterprises/{{creditCode}}" id="as-of">
        <p>{{creditCode}} · {{county}} · 按 <input type="date" name="as_of" value="{{asOf}}"> 在效政策测算 <button type="submit">重新测算</button></p>
        </form>
        <h2>可享受的政策（{{entitlementCount}}）</h2>
        <table id="entitlements">
        <tr><th>条款</th><th class="money">金额</th><th>依据</th><th>状态</th></tr>
        {{#entitlements}}
        <tr><td>{{clauseTitle}}</td><td class="money">{{amount}}</td><td>{{#reasons}}<span class="quote">{{.}}</span><br>{{/reasons}}</td><td>{{state}}</td></tr>
        {{/entitlements}}
        </table>
        <h2>差一点满足的政策（{{nearMissCount}}）</h2>
        <table id="near-misses">
        <tr><th>条款</th><th>尚缺</th></tr>
        {{#nearMisses}}<tr><td>{{clauseTitle}}</td><td>{{#missing}}{{.}}<br>{{/missing}}</td></tr>{{/nearMisses}}
        </table>
        <h2>兑付记录</h2>
        <table id="orders">
        <tr><th>兑付单</th><th>条款</th><th class="money">金额</th><th>状态</th><th>决定</th></tr>
        {{#orders}}<tr><td>{{id}}</td><td>{{clauseTitle}}</td><td class="money">{{amount}}</td><td>{{status}}</td><td>{{decidedBy}} {{reason}}{{#declaredFacts}}<br><small class="declared">依企业申报、未经部门认定的事实，经审核申报材料兑付</small>{{/declaredFacts}}</td></tr>{{/orders}}
        </table>
        {{#ordersNext}}<p><a href="{{ordersNext}}" id="orders-next">更多兑付记录</a></p>{{/ordersNext}}
        <h2>已发送的通知</h2>
        <table id="notices">
        <tr><th>时间</th><th>标题</th><th>内容</th></tr>
        {{#notices}}<tr><td>{{at}}</td><td>{{title}}</td><td>{{body}}</td></tr>{{/notices}}
        </table>
        {{#noticesNext}}<p><a href="{{noticesNext}}" id="notices-next">更早的通知</a></p>{{/noticesNext}}
        {{#canApply}}
        <h2>提交申请（即申即享 / 限时即享）</h2>
        <form method="post" action="/console/enterprises/{{creditCode}}/applications" id="apply">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <p><label>条款 <select name="clause">{{#applicable}}<option value="{{id}}">{{title}}</option>{{/applicable}}</select></label></p>
        <p><label>项目、合同或奖项编号（仅“每项”“单个项目”条款填写） <input type="text" name="subject"></label></p>
        <p><label>申请金额（元） <input type="number" name="amount_yuan" min="0" step="0.01"></label></p>
        <input type="hidden" name="as_of" value="{{asOf}}">
        <p><button type="submit">提交申请</button></p>
        </form>
        {{/canApply}}
        """

    static let overview = """
        <h2>资金使用</h2>
        <table id="funds">
        <tr><th>资金账户</th><th class="money">预算</th><th class="money">已兑付</th><th class="money">已预留</th><th class="money">可用</th></tr>
        {{#funds}}<tr><td>{{name}}<br><small>{{account}}</small></td><td class="money">{{budget}}</td><td class="money">{{posted}}</td><td class="money">{{reserved}}</td><td class="money">{{available}}</td></tr>{{/funds}}
        </table>
        <p>借方合计 {{debits}} · 贷方合计 {{credits}} {{#balanced}}（平衡）{{/balanced}}{{^balanced}}<strong class="late">（不平衡）</strong>{{/balanced}}</p>
        <h2>兑付率</h2>
        <svg id="payout-chart" width="{{chartWidth}}" height="{{chartHeight}}" role="img" aria-label="兑付率与目标">
        {{#bars}}
        <text x="4" y="{{labelY}}" font-size="12">{{label}}</text>
        <rect x="220" y="{{y}}" width="{{achievedWidth}}" height="14" fill="#2f7d4a"></rect>
        <line x1="{{targetX}}" x2="{{targetX}}" y1="{{targetTop}}" y2="{{targetBottom}}" stroke="#b3261e" stroke-width="2"></line>
        <text x="{{textX}}" y="{{labelY}}" font-size="12">{{achieved}} / 目标 {{target}}</text>
        {{/bars}}
        </svg>
        <h2>免申即享活动</h2>
        {{^campaigns}}<p>尚无活动。</p>{{/campaigns}}
        <table id="campaigns">
        {{#campaigns}}<tr><td>{{what}}<br><small><a href="/console/campaigns/{{id}}">{{id}}</a></small></td><td>{{scope}} · {{asOf}}</td><td{{#running}} class="late"{{/running}}>{{state}}{{resumed}}</td><td>筛查 {{screened}} 家，新拨付 {{proposed}} 笔，已有 {{replayed}} 笔，未通过 {{refused}} 笔</td><td class="money">{{amount}}</td><td>差一点 {{nearMisses}} 家</td><td>{{startedBy}} {{startedAt}}</td></tr>{{/campaigns}}
        </table>
        <h2>依申请兑付（即申即享 / 限时即享）</h2>
        <table id="application-tallies">
        <tr><th>文件</th><th>责任单位</th><th>受理</th><th>即时办结</th><th>限时内办结</th><th>超期</th><th>待办</th></tr>
        {{#tallies}}<tr><td>{{documentID}}</td><td>{{department}}</td><td>{{received}}</td><td>{{decidedAtOnce}}</td><td>{{decidedInTime}}</td><td{{#late}} class="late"{{/late}}>{{breached}}</td><td>{{pending}}</td></tr>{{/tallies}}
        </table>
        {{#hasBreached}}
        <h3>超期未办结，已上报市级</h3>
        <table id="breached">
        <tr><th>申请</th><th>企业</th><th>条款</th><th>办结期限</th><th>责任单位</th></tr>
        {{#breached}}<tr><td>{{id}}</td><td>{{enterpriseName}}</td><td>{{clauseID}}</td><td class="late">{{dueOn}}</td><td>{{departments}}</td></tr>{{/breached}}
        </table>
        {{#breachedNext}}<p><a href="{{breachedNext}}" id="breached-next">更早的超期申请</a></p>{{/breachedNext}}
        {{/hasBreached}}
        <h2>服务与副本</h2>
        <table id="health">
        <tr><th>服务</th><th>副本</th><th>状态</th><th>进行中</th></tr>
        {{#replicas}}<tr><td>{{service}}</td><td>{{endpoint}}</td><td{{^serving}} class="late"{{/serving}}>{{status}}</td><td>{{outstanding}}</td></tr>{{/replicas}}
        </table>
        <h2>死信通知</h2>
        {{^dead}}<p>没有死信通知。</p>{{/dead}}
        <table id="dead-letters">
        {{#dead}}<tr><td>{{noticeID}}</td><td>{{endpoint}}</td><td>{{attempts}} 次</td><td>{{lastError}}</td>
        <td><form method="post" action="/console/deliveries/{{noticeID}}/replay" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="endpoint" value="{{endpoint}}"><button type="submit">重新投递</button></form></td></tr>{{/dead}}
        </table>
        {{#deadNext}}<p><a href="{{deadNext}}" id="dead-next">更早的死信</a></p>{{/deadNext}}
        """

    static let campaign = """
        {{#campaign}}
        <h2>{{what}}</h2>
        <p>{{scope}} · 截至 {{asOf}} · {{state}}{{resumed}} · {{startedBy}} {{startedAt}}</p>
        <p>新拨付 {{proposed}} 笔，已有 {{replayed}} 笔，未通过 {{refused}} 笔，<span class="money">{{amount}}</span>；差一点 {{nearMisses}} 家</p>
        {{/campaign}}
        <table id="campaign-stages">
        <tr><th>环节</th><th>进度</th><th>完成</th><th>速度</th><th>剩余</th></tr>
        {{#stages}}<tr><td>{{name}}</td><td><progress value="{{done}}" max="{{max}}"></progress></td><td>{{done}} / {{total}}</td><td>{{rate}}</td><td>{{left}}</td></tr>{{/stages}}
        </table>
        <p>已入账 <span class="money" id="campaign-paid">{{paid}}</span></p>
        <h3>分县（市、区）兑付</h3>
        <table id="campaign-shares">
        <tr><th>县（市、区）</th><th>条款</th><th>笔数</th><th>已入账</th><th>应付</th><th>已付</th><th>兑付率</th></tr>
        {{#shares}}<tr><td>{{county}}</td><td>{{clause}}<br><small>{{clauseID}}</small></td><td>{{orders}}</td><td>{{posted}}</td><td class="money">{{promised}}</td><td class="money">{{paid}}</td><td>{{rate}}</td></tr>{{/shares}}
        </table>
        {{#hasTargets}}
        <h3>文件兑付目标</h3>
        <table id="campaign-targets">
        <tr><th>文件</th><th>时限</th><th>目标</th><th>已达</th></tr>
        {{#targets}}<tr><td>{{document}}</td><td>{{by}}</td><td>{{target}}</td><td{{#late}} class="late"{{/late}}>{{achieved}}</td></tr>{{/targets}}
        </table>
        {{/hasTargets}}
        """

    static let forecast = """
        <form method="get" action="/console/forecast" id="forecast-form">
        <p>按 <input type="date" name="as_of" value="{{asOf}}"> 在效政策，测算{{scope}}登记企业应享金额
        {{#isOperator}}<select name="county"><option value="">全市</option>{{#counties}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/counties}}</select>{{/isOperator}}
        <button type="submit">测算</button></p>
        </form>
        {{#computed}}
        <p id="forecast-total">登记企业 {{enterprises}} 家，其中 {{eligibleEnterprises}} 家可获兑付，合计 <strong>{{total}}</strong>（已按就高不重复）。目录版本 {{revision}}。</p>
        <table id="forecast">
        <tr><th>条款</th><th>文件</th><th class="money">企业数</th><th class="money">金额</th></tr>
        {{#clauses}}<tr><td>{{clauseID}}</td><td>{{documentID}}</td><td class="money">{{enterprises}}</td><td class="money">{{amount}}</td></tr>{{/clauses}}
        </table>
        {{#hasRefused}}<p class="late">{{refused}} 份登记资料未通过校验，未计入。</p>{{/hasRefused}}
        {{/computed}}
        """
}
